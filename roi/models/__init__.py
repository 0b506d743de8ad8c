from roi.models.budget import ItBudget
from roi.models.config import BusinessKpis, FinancialModel, VersionedConfig
from roi.models.costs import CostImport, CostMonth
from roi.models.events import (
    AutomationRun,
    Deployment,
    Event,
    EventKind,
    Incident,
    Investment,
    PerformanceSample,
)
from roi.models.proposals import ChangeProposal, ProposalStatus, ProposalTarget
from roi.models.rollups import MonthlyRollup, PerformanceMonth, Stream
from roi.models.verification import LedgerVerificationRun, VerificationStatus

__all__ = [
    "AutomationRun",
    "BusinessKpis",
    "ChangeProposal",
    "CostImport",
    "CostMonth",
    "Deployment",
    "Event",
    "EventKind",
    "FinancialModel",
    "Incident",
    "Investment",
    "ItBudget",
    "LedgerVerificationRun",
    "MonthlyRollup",
    "PerformanceMonth",
    "PerformanceSample",
    "ProposalStatus",
    "ProposalTarget",
    "Stream",
    "VerificationStatus",
    "VersionedConfig",
]
