import cProfile, pstats, time, io
from datetime import date
from sqlalchemy import select, text
from benchmarks.common import engine_for, fresh_database, vacuum
from benchmarks.data import VARIANTS, add_participants, add_responses, make_study
from surveys.db import make_session_factory
from surveys.models import Study
from surveys.reporting import paired_report, paired_score_counts
import analysis.binary, analysis.paired  # noqa
N = 300000
for variant in ("mixed", "ehd"):
    url = fresh_database("surveys_diag")
    engine = engine_for(url)
    m = VARIANTS[variant]
    with engine.begin() as conn:
        study, _, wave2 = make_study(conn, "report", m)
        add_participants(conn, study, N, date(2026, 1, 5), measures=m)
        t = time.perf_counter()
        add_responses(conn, study, wave2, date(2026, 2, 20), measures=m)
        print(variant, "insert", time.perf_counter() - t)
    vacuum(url)
    f = make_session_factory(engine)
    for _ in range(2):
        with f() as s:
            st = s.scalar(select(Study).where(Study.slug == "report"))
            t = time.perf_counter(); paired_report(s, st, "wave2"); print(variant, "report", time.perf_counter() - t)
            t = time.perf_counter(); paired_score_counts(s, wave2, list(st.measures)); print(variant, "counts only", time.perf_counter() - t)
    with f() as s:
        st = s.scalar(select(Study).where(Study.slug == "report"))
        pr = cProfile.Profile(); pr.enable(); paired_report(s, st, "wave2"); pr.disable()
        out = io.StringIO(); pstats.Stats(pr, stream=out).sort_stats("cumulative").print_stats(12); print(out.getvalue()[:3000])
    with engine.connect() as c:
        print(c.execute(text("SELECT pg_size_pretty(pg_relation_size('ix_responses_paired'))")).scalar())
    engine.dispose()
