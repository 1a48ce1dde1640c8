"""The shape of an index uid, for every place that checks one."""

from __future__ import annotations

import re
from typing import Final

# Always `fullmatch`: with `match`, a pattern ending in `$` also accepts a final newline.
INDEX_UID: Final = re.compile(r"[A-Za-z0-9_-]{1,400}")
INDEX_UID_RULE: Final = (
    "Index uid can be an integer or a string containing only alphanumeric characters, "
    "hyphens (-) and underscores (_), and can not be more than 400 bytes."
)
