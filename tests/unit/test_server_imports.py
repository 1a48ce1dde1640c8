"""What a default server's process imports: libraries only some configurations use stay out
(issue #18: the process's own RSS before any document)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# A server on an embedded SQLite database without remotes, webhooks or an embedder: its
# process, as `sift serve` builds it (the schema migrated in a child first).
SERVER = """
import os
import sys
from sift.app import create_app
from sift.config import load_config
from sift.services import Services
from sift.storage.child_migration import migrate_in_child

config = load_config({"data_dir": DATA_DIR, "master_key": "k" * 24}, environ={})
assert migrate_in_child(config.resolved_database_url)
create_app(config)
Services.build(config)
loaded = {m.split(".")[0] for m in sys.modules}
optional = {"alembic", "mako", "httpx", "rich", "jinja2", "throttled", "redis"}
print(sorted(loaded & optional), flush=True)
os._exit(0)  # threads the services started are not stopped
"""


def test_a_default_server_never_imports_alembic_httpx_jinja_or_redis(tmp_path: Path) -> None:
    # throttled-py (and the redis client it imports, ~8 MiB) loads at the first failed
    # authentication, not before: the default limit's buckets are built empty.
    code = SERVER.replace("DATA_DIR", repr(str(tmp_path / "data")))
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert shown.stdout.strip().splitlines()[-1] == "[]"
