"""One dispatcher process for the exactly-once tests: `python -m tests.faults.dispatch_worker`.

Arguments: DATABASE_URL SMTP_PORT NOW(ISO) GO_FILE. The secret comes from
SURVEYS_SECRET_KEY. It prints 'ready' once connected, waits until GO_FILE
exists (so every racer starts together), runs one dispatcher pass and prints
the pass's report as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path


def main(argv: list[str]) -> int:
    url, smtp_port, now, go_file = argv
    from scheduler.jobs import dispatch
    from surveys.db import make_engine, make_session_factory
    from surveys.invitations.mailer import SmtpMailer
    from surveys.settings import Settings

    settings = Settings(
        database_url=url,
        secret_key=os.environ["SURVEYS_SECRET_KEY"],
        base_url="http://surveys.test",
        smtp_host="127.0.0.1",
        smtp_port=int(smtp_port),
        mail_retry_limit=3,
        mail_retry_base_seconds=60,
    )
    engine = make_engine(url)
    with engine.connect():
        pass
    print("ready", flush=True)
    go = Path(go_file)
    while not go.exists():
        time.sleep(0.002)
    report = dispatch(make_session_factory(engine), datetime.fromisoformat(now), settings,
                      SmtpMailer("127.0.0.1", int(smtp_port)))
    print(json.dumps(vars(report)), flush=True)
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
