"""governance.sql: the hand-written reads' helpers."""

import gc
import threading
import weakref

from django.contrib.sessions.models import Session
from django.db import connections

from governance.sql import converters_for


def test_converter_lookups_go_with_their_connection():
    # Each thread has a connection of its own (runserver starts one per request): what is
    # remembered for a connection must not keep it alive after its thread is gone.
    gone: list[weakref.ref] = []

    def look_up() -> None:
        converters_for([Session._meta.get_field("expire_date"), Session._meta.get_field("session_data")])
        gone.append(weakref.ref(connections["default"]))

    for _ in range(3):
        thread = threading.Thread(target=look_up)
        thread.start()
        thread.join()
    gc.collect()
    assert [ref() for ref in gone] == [None, None, None]
