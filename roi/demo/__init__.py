"""The demo tenant: `events` holds its story's span, services and teams (each kind's
generator is its spec's `demo`, in `roi.kinds`; all pure, no database); `seed` creates the
tenant and its users and feeds it those events once, as the `seed_demo` command
(roi/management/commands/seed_demo.py) does. Import from those modules: the kinds'
generators import `events`, and `seed` imports the kinds.
"""
