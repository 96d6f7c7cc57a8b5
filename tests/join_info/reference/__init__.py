"""A frozen copy of the join detector as it was before the speed work of issue 14.

``detect``, ``catalog``, ``services``, ``dial``, ``extract``, ``labels`` and ``unwrap`` are
the modules of ``hybrid_calendar.join_info`` at commit ``018dc3c``, unchanged except that
they import each other relatively. ``test_differential.py`` runs this copy and the
current detector over the same events and requires identical results; the copy is never
edited (a deliberate behaviour change updates it in the same commit, with the reason).
"""
