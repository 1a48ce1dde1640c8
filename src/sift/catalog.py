"""The derived search indexes: one engine SearchIndex per index, rebuilt from SQL.

The database is the source of truth; everything here can be thrown away and
rebuilt with :meth:`IndexCatalog.rebuild`, which is what happens at start.

While the task worker applies a batch (:meth:`IndexCatalog.applying`), every index
it can touch holds its changes back from readers; they are published together once
the batch's transaction has committed, so a search never sees half a batch.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from sift.engine import image
from sift.engine.index import SearchIndex
from sift.engine.partition import Partition
from sift.engine.store import Segment
from sift.errors import IndexNotFound
from sift.semantic import service as semantic
from sift.storage import documents as doc_rows
from sift.storage import indexes as index_rows
from sift.storage.database import Database
from sift.tasks import memory

log = logging.getLogger("sift.catalog")

# How long a stop may spend merging the indexes' segments before it writes their images
# (all indexes together): an index whose merge is not done by then is written as it is,
# and the next start merges it before serving it (_ready). A 1M-product merge takes
# ~1.4 s on a loaded 2-core machine (docs/benchmarks/scale.md, "A restart from an image
# written by a stop right after an import").
STOP_MERGE_BUDGET_S = 15.0


class IndexCatalog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._indexes: dict[str, SearchIndex] = {}
        self._lock = threading.Lock()
        # The shards of the /network this node holds (every index alike); None: all.
        self.partition: Partition | None = None
        self._wanted_partition: tuple[Partition | None] | None = None
        self._held: list[SearchIndex] | None = None  # during applying(): what to publish
        self._views_builder: ThreadPoolExecutor | None = None  # applying()'s helper
        self._visibility = threading.Lock()  # from a batch's commit to its publication
        # Where index images go (sift.engine.image): written at shutdown, loaded at start
        # instead of a rebuild when they match the database; None: always rebuild.
        self.image_dir: Path | None = None

    @contextmanager
    def applying(self) -> Iterator[Callable[..., None]]:
        """Hold every index's changes (and those of indexes created meanwhile) until the
        block ends without an exception; the worker commits the batch inside it, after
        calling the function this yields. That function takes the lock :meth:`settled`
        waits for, so that from the commit until the views are published nobody reads
        the tasks' new status (whoever sees `succeeded` finds the batch in its
        searches), and starts building the views beside the commit. On an exception
        nothing is published: the worker rebuilds from the database (views that fail
        after the commit: rebuilt here, before the lock is let go)."""
        with self._lock:
            self._held = list(self._indexes.values())
            held = self._held
        for index in held:
            _hold(index)
        locked = False
        preparing: Future[None] | None = None

        def committing(lock: bool = True) -> None:
            nonlocal locked, preparing
            # The views (the slow part) are built on a helper thread while the caller
            # commits: the driver waits for the disk or the server without the GIL, so
            # the two overlap (a 200k import: the commit ~0.15 s, the views ~0.3 s).
            # Nobody reads the tasks' statuses from here until the views are published.
            # ``lock=False``: the indexes are final, start the views only (a staged batch,
            # tasks/staged.py, before writing its rows: task reads are not held up meanwhile).
            if lock and not locked:
                self._visibility.acquire()
                locked = True
            if preparing is None:
                preparing = self._preparer().submit(_prepare, held)

        published = False
        try:
            yield committing
            published = True
        finally:
            # The views' builder lets go of the indexes before they are published or
            # thrown away.
            failed = preparing.exception() if preparing is not None else None
            with self._lock:
                self._held = None
            try:
                for index in held:
                    _release(index, published and failed is None)
                if published and failed is not None:
                    # The batch committed, its views failed (a bug, memory; never seen):
                    # the indexes are made again from the database, which holds the
                    # batch, before anyone reads its tasks' statuses.
                    log.error("a batch's views failed after its commit: rebuilding",
                              exc_info=failed)
                    self.rebuild()
            finally:
                if locked:
                    self._visibility.release()

    def _preparer(self) -> ThreadPoolExecutor:
        if self._views_builder is None:  # started by the first batch
            self._views_builder = ThreadPoolExecutor(1, thread_name_prefix="sift-views")
        return self._views_builder

    def close(self) -> None:
        """Let the batches' helper thread go (at shutdown, once no batch runs): each
        catalog otherwise kept an idle thread until the process exited."""
        builder, self._views_builder = self._views_builder, None
        if builder is not None:
            builder.shutdown(wait=True)

    @contextmanager
    def settled(self) -> Iterator[None]:
        """Read task statuses in this block: none is committed but not yet published."""
        with self._visibility:
            yield

    def get(self, uid: str) -> SearchIndex:
        try:
            return self._indexes[uid]
        except KeyError:
            raise IndexNotFound(uid) from None

    def find(self, uid: str) -> SearchIndex | None:
        return self._indexes.get(uid)

    def uids(self) -> list[str]:
        return sorted(self._indexes)

    def click_ranked(self) -> list[str]:
        """The indexes whose `clickRanking` setting is on (docs/ranking.md#clicks)."""
        return [
            uid
            for uid in self.uids()
            if (index := self.find(uid)) is not None
            and (index.settings.get("clickRanking") or {}).get("enabled")
        ]

    def create(self, uid: str, settings: dict[str, Any], primary_key: str | None) -> SearchIndex:
        index = SearchIndex(settings, primary_key, self.partition)
        with self._lock:
            if self._held is not None:
                _hold(index)
                self._held.append(index)
            self._indexes[uid] = index
        return index

    def drop(self, uid: str) -> None:
        with self._lock:
            self._indexes.pop(uid, None)

    def swap(self, first: str, second: str) -> None:
        with self._lock:
            a, b = self._indexes.get(first), self._indexes.get(second)
            if a is not None and b is not None:
                self._indexes[first], self._indexes[second] = b, a

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            self._indexes[new] = self._indexes.pop(old)

    def optimize(self) -> int:
        """Merge each index's segments into one; the task worker calls this when its
        queue is empty, so searches after a burst of writes gather once per word."""
        with self._lock:
            indexes = list(self._indexes.values())
        return sum(index.optimize() for index in indexes)

    def warm(self) -> int:
        """Build what each index's first searches would (SearchIndex.warm); the task
        worker calls this when idle, after :meth:`optimize`."""
        with self._lock:
            indexes = list(self._indexes.values())
        return sum(index.warm() for index in indexes)

    def warm_views(self) -> None:
        """Build each index's filter and facet views that the last batches dropped
        (SearchIndex.warm_fields) and its vocabulary's typo rows (SearchIndex.warm_words);
        the task worker calls this once its queue is empty."""
        with self._lock:
            indexes = list(self._indexes.values())
        for index in indexes:
            _warm_views(index)

    def filter_view(
        self, uid: str, conn: Connection, shards: tuple[str, ...] | None = None
    ) -> SearchIndex:
        """An index that filters and sorts over *every* document of ``uid`` (or, given
        ``shards``, every document of those shards), for what must see them all
        (deleting by filter, listing documents by filter or sort).

        Without sharding, holding every shard, or holding all of ``shards``, that is the
        index itself. A node holding some shards builds a transient one from the database
        instead: filterable and sortable values only, no text (so it costs a read of the
        index's rows).
        """
        index = self.get(uid)
        part = self.partition
        if part is None or part.held is None:
            return index
        if shards is not None and all(part.holds(shard) for shard in shards):
            return index  # a network listing's leg asks only for shards held here
        record = next((r for r in index_rows.all_records(conn) if r.uid == uid), None)
        if record is None:
            raise IndexNotFound(uid)
        # A searchable attribute no document has: nothing is tokenised.
        settings = {**record.settings, "searchableAttributes": ["\x00filters-only"]}
        full = SearchIndex(settings, record.primary_key, Partition(part.shards))
        for batch in doc_rows.iter_all(conn, record.id):
            full.upsert([(doc_id, orjson.loads(body)) for doc_id, body in batch])
        return full

    def set_partition(self, partition: Partition | None) -> None:
        """Hold other shards from now on: every index is rebuilt from the database.
        Call it from the task worker's thread (see :meth:`request_partition`)."""
        if partition == self.partition:
            return
        self.partition = partition
        self.rebuild()

    def request_partition(self, partition: Partition | None) -> None:
        """Ask for :meth:`set_partition`; the worker applies it between two batches, so a
        rebuild never races a batch writing into the indexes it replaces."""
        self._wanted_partition = (partition,)

    def apply_requested_partition(self) -> bool:
        wanted, self._wanted_partition = self._wanted_partition, None
        if wanted is None:
            return False
        self.set_partition(wanted[0])
        return True

    def rebuild(self, uid: str | None = None, from_images: bool = False) -> None:
        """Reload one index (or all) from the database; ``from_images`` (at start): from
        an index's image where it matches the database (see :meth:`_from_image`).
        The cyclic collector is paused meanwhile, as for a batch: its automatic full
        collections walked every object the index held so far, again and again."""
        with memory.cyclic_gc_paused(), self.db.read() as conn:
            records = index_rows.all_records(conn)
            if uid is not None:
                records = [r for r in records if r.uid == uid]
                if not records:
                    self.drop(uid)
            for record in records:
                index = self._from_image(conn, record) if from_images else None
                if index is None:
                    index = self._from_rows(conn, record)
                semantic.rebuild(self.db, conn, record.id, index)
                # Before any search sees it: its first filter, facet, typo or one-letter
                # word must not build them, nor the task worker's idle pass beside them.
                _ready(index)
                with self._lock:
                    self._indexes[record.uid] = index
            if uid is None:
                with self._lock:
                    for stale in set(self._indexes) - {r.uid for r in records}:
                        del self._indexes[stale]

    def _from_rows(self, conn: Connection, record: index_rows.IndexRecord) -> SearchIndex:
        """The index of ``record`` built from its stored documents."""
        index = SearchIndex(record.settings, record.primary_key, self.partition)
        total = 0
        part = self.partition
        for batch in doc_rows.iter_all(conn, record.id):
            if part is not None and part.held is not None:
                # Other nodes hold these: not even parsed here.
                batch = [(i, b) for i, b in batch if part.holds(part.shard_of(i))]
            docs = [(doc_id, orjson.loads(body)) for doc_id, body in batch]
            semantic.strip_vectors(index, docs)  # vectors are not text to search
            index.upsert(docs)
            total += len(batch)
        index.optimize(force=True)  # one segment: the batches left several
        log.info("index %r rebuilt: %d documents", record.uid, total,
                 extra={"index": record.uid, "documents": total})  # fmt: skip
        return index

    # ------------------------------------------------------------ index images

    def _image_path(self, uid: str) -> Path:
        assert self.image_dir is not None
        return self.image_dir / (hashlib.sha256(uid.encode()).hexdigest()[:32] + ".image")

    def _image_key(self, uid: str, primary_key: str | None, settings: dict[str, Any]
                   ) -> dict[str, Any] | None:
        """What an image of this index must have been built from; None: no image (an
        index with embedders also loads vectors, which its image would not hold)."""
        if self.image_dir is None or settings.get("embedders"):
            return None
        part = self.partition
        key = {"uid": uid, "primary_key": primary_key, "settings": settings,
               "shards": None if part is None else list(part.shards),
               "held": None if part is None or part.held is None else sorted(part.held)}
        return json.loads(json.dumps(key, sort_keys=True))  # as the header reads it back

    def _from_image(self, conn: Connection, record: index_rows.IndexRecord
                    ) -> SearchIndex | None:
        """The index of ``record`` from its image, when the image holds exactly the
        documents the database holds (every stored document is read and hashed: a
        bulk read, no tokenising), with the same settings; else None."""
        key = self._image_key(record.uid, record.primary_key, record.settings)
        if key is None:
            return None
        path = self._image_path(record.uid)
        header = image.read_header(path)
        if header is None or header.key != key:
            return None
        started = time.perf_counter()
        digest = image.ContentDigest()
        part = self.partition
        for batch in doc_rows.iter_all(conn, record.id):
            for doc_id, body in batch:
                if part is None or part.held is None or part.holds(part.shard_of(doc_id)):
                    digest.add(doc_id, orjson.loads(body))
        if (digest.count, digest.hex) != (header.documents, header.digest):
            log.info("index %r: its image differs from the database; rebuilding", record.uid,
                     extra={"index": record.uid})  # fmt: skip
            return None
        try:
            index = image.load(path)
        except Exception:  # a torn or foreign file: whatever unpickling raised
            log.warning("index %r: unreadable image; rebuilding", record.uid, exc_info=True)
            return None
        log.info("index %r loaded from its image: %d documents, %.1f s", record.uid,
                 digest.count, time.perf_counter() - started,
                 extra={"index": record.uid, "documents": digest.count})  # fmt: skip
        return index

    def save_images(self) -> None:
        """Write an image of every index (at shutdown, once no batch runs) and remove the
        images of indexes that are gone. A failure costs the next start a rebuild.

        The worker processes of one server stop together and hold the same indexes: the
        first to lock the directory writes them, the others leave it (one write, not one
        per process, and no partial file of a live writer is taken for a dead one's)."""
        if self.image_dir is None:
            return
        self.image_dir.mkdir(parents=True, exist_ok=True)
        with open(self.image_dir.with_name(self.image_dir.name + ".lock"), "ab") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("another process of this server writes the index images")
                return
            self._write_images()

    def _write_images(self) -> None:
        assert self.image_dir is not None
        with self._lock:
            indexes = dict(self._indexes)
        kept = set()
        merge_until = time.monotonic() + STOP_MERGE_BUDGET_S
        for uid, index in indexes.items():
            key = self._image_key(uid, index.primary_key, index.settings)
            if key is None:
                continue
            path = self._image_path(uid)
            kept.add(path)
            started = time.perf_counter()
            _merge_before_image(uid, index, merge_until)
            try:
                header = image.save(index, path, key)
            except Exception:  # a full disk, an object that cannot be pickled: no image,
                # so the next start rebuilds; the stop itself must go on
                log.warning("index %r: its image could not be written", uid, exc_info=True)
                continue
            log.info("index %r: image written: %d documents, %.1f s", uid, header.documents,
                     time.perf_counter() - started, extra={"index": uid})  # fmt: skip
        # Images of indexes gone since, and partial files of a stop killed mid-write.
        for stale in set(self.image_dir.glob("*.image")) - kept:
            stale.unlink(missing_ok=True)
        for partial in self.image_dir.glob(".*.partial"):
            partial.unlink(missing_ok=True)


def _merge_before_image(uid: str, index: SearchIndex, until: float) -> None:
    """Merge the segments ``index`` holds into the image about to be written, as the
    task worker's idle pass would have (a stop right after an import comes before it):
    otherwise the next start merges them before serving the index, which made a 1M
    restart from its image 1.3-6 s slower and ~70 MiB heavier. The merge runs on a
    daemon thread, waited for until ``until`` (time.monotonic) at most, so that a stop
    never waits on it past its budget; one not done by then is left behind, and the
    image holds the segments as they are (the next start merges them)."""
    if not index.merge_due():
        return
    if time.monotonic() >= until:
        log.warning("index %r: no time left in the stop to merge its segments; the image "
                    "holds them unmerged", uid, extra={"index": uid})  # fmt: skip
        return
    done: list[tuple[list[Segment], Segment] | None] = []
    failed: list[Exception] = []

    def merge() -> None:
        try:
            done.append(index.merged_segments())
        except Exception as exc:  # reported below: the stop goes on, unmerged
            failed.append(exc)

    started = time.perf_counter()
    merger = threading.Thread(target=merge, name="sift-image-merge", daemon=True)
    merger.start()
    left = max(0.0, until - time.monotonic())  # the indexes share one budget
    merger.join(left)
    if failed:
        log.warning("index %r: its segments could not be merged for its image", uid,
                    exc_info=failed[0])  # fmt: skip
    elif not done:
        # The time this index was given, not the constant: the message said "15 s" for an
        # index that had 0.3 s left of the stop's budget (or a budget set otherwise).
        log.warning("index %r: its segments' merge outlasted the %.1f s left of the stop's "
                    "merge budget; the image holds them unmerged (the next start merges "
                    "them)", uid, left, extra={"index": uid})  # fmt: skip
    elif done[0] is not None and index.adopt_merge(*done[0]):
        log.info("index %r: segments merged for its image, %.1f s", uid,
                 time.perf_counter() - started, extra={"index": uid})  # fmt: skip


def _prepare(held: list[SearchIndex]) -> None:
    for index in held:
        index.prepare()


def _hold(index: SearchIndex) -> None:
    index.hold()
    for vectors in semantic.of(index).vectors.values():
        vectors.hold()


def _release(index: SearchIndex, publish: bool) -> None:
    index.release(publish)
    # Vector indexes made during the batch (new embedders) were never held.
    for vectors in semantic.of(index).vectors.values():
        vectors.release(publish)


def _warm_views(index: SearchIndex) -> None:
    index.warm_fields()
    index.warm_words()


def _ready(index: SearchIndex) -> None:
    """What the task worker's idle pass would do to a rebuilt or loaded index, done
    before it is served. An image written by a stop soon after a batch holds that
    batch's segments: the idle pass merged them while the first searches ran (1.4 s at
    1M products on a loaded machine) and published a new version, whose one-letter
    words' totals, typo rows and vocabulary buckets its searches then built again, so a
    server restarted from its image answered its first ~10 s slower (engine p99 23.7-25.7
    ms at 1M against 13.5 rebuilt from the database, docs/benchmarks/scale.md, "A
    restarted server's first searches")."""
    index.optimize()
    _warm_views(index)
    index.warm_prefixes()
