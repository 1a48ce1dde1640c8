"""SearchIndex: the in-memory index of one Meilisearch index.

One writer thread calls upsert/delete/clear/set_settings; any number of reader
threads call search. Writers build new immutable :class:`Snapshot` objects and
publish them with a single reference assignment, so readers never lock the
inverted index. Between :meth:`SearchIndex.hold` and :meth:`SearchIndex.release`
the writer's changes are not published: the task worker holds an index while a
batch runs and releases it once the batch's transaction has committed, so readers
see a batch all at once (as Meilisearch does), never part of it.

The FieldStore (filters, facets, sort) is mutable and owned by another module; it
is guarded by a lock that readers hold only for the call. Readers mask its docids
with their snapshot's, so documents added to it stay invisible until published;
removals from a held index wait for the publication.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from sift.engine import pipeline
from sift.engine.analysis import Analyzer
from sift.engine.batch.postings import batch_postings
from sift.engine.batch.values import batch_values
from sift.engine.clicks import ClickSignal, QueryClicks
from sift.engine.corpus.query import query_statistics
from sift.engine.corpus.stats import CorpusStats
from sift.engine.docids import DocIds
from sift.engine.doctable import DocTable
from sift.engine.expand import dead_terms
from sift.engine.extids import ExternalIds
from sift.engine.facet_search import run_facet_search
from sift.engine.fields.store import FieldStore
from sift.engine.kernels import live_rows_per_term
from sift.engine.partition import SHARD_FIELD, Partition
from sift.engine.pipeline.lexical import BUCKET_RULES
from sift.engine.query import SearchParams
from sift.engine.select import filter_docids, sorted_docids
from sift.engine.store import (
    IndexView,
    Segment,
    Snapshot,
    merge_segments,
)
from sift.engine.terms import TermTable
from sift.engine.tiebreak import tie_keys
from sift.engine.vocab import VocabularyBuilder
from sift.engine.word_totals import dense_letters

MAX_SEGMENTS = 8
OPTIMIZE_SHARE = 0.05  # idle merge once the small segments hold 5 % of the largest's rows


class SearchIndex:
    """In-memory search index; see the module docstring for the threading model."""

    def __init__(
        self, settings: dict[str, Any], primary_key: str | None, partition: Partition | None = None
    ) -> None:
        self.primary_key = primary_key
        # With a partition, the index holds only the documents of its held shards, and
        # every document's shard is filterable as `_shard`.
        self.partition = partition
        self.fields_lock = threading.Lock()
        self._held = False  # hold(): changes wait for release() to be published
        self._unpublished: IndexView | None = None  # the writer's view while held
        self._stale = False  # a change since the writer's view was built
        # Documents leaving the field store at release(), with their docids.
        self._removed: list[tuple[int, dict[str, Any]]] = []
        self._apply_settings(settings)
        self._reset()

    # ----------------------------------------------------------------- writing

    def _apply_settings(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.analyzer = Analyzer(settings.get("separatorTokens") or (),
                                 settings.get("nonSeparatorTokens") or (),
                                 settings.get("dictionary") or ())
        self.searchable: list[str] = list(settings.get("searchableAttributes") or ["*"])

    def _reset(self, publish: bool = True) -> None:
        self._terms = TermTable()
        self._vocab = VocabularyBuilder(self._terms)
        self._field_ids: dict[str, int] = {}
        self._field_names: list[str] = []
        self._docs = DocTable()
        # Ids that are no term: one table of their strings, both directions' (docids.py).
        others = TermTable()
        self._ext_to_int = DocIds(self._terms, others)
        self._ext_ids = ExternalIds(self._terms, others)
        self._alive = np.zeros(0, dtype=bool)
        self._field_len = np.zeros((0, 1), dtype=np.float32)
        self._field_len_room = self._field_len  # _field_len is its first rows (_grow)
        self._tie_room = np.zeros(0, dtype=np.uint64)  # the first rows are in use (_grow)
        self._segments: list[Segment] = []
        # Live rows per term id, kept from batch to batch: a batch adds its segment's
        # and takes away its removed documents' (found by analysing them again).
        self._live_tf = np.zeros(0, dtype=np.int64)
        self._distribution: Counter[str] = Counter()
        self.field_store = self._new_field_store()
        self._removed = []  # for the old field store, which readers drop with the old view
        if publish:
            self._publish()

    def _new_field_store(self) -> FieldStore:
        filterable = [a if isinstance(a, str) else p
                      for a in self.settings.get("filterableAttributes") or []
                      for p in ([a] if isinstance(a, str) else a.get("attributePatterns", []))]
        if self.partition is not None:
            filterable.append(SHARD_FIELD)
        return FieldStore(filterable, list(self.settings.get("sortableAttributes") or []))

    # Pickling (sift.engine.image): the writer's state only; the lock and the published
    # view are made again, and the view from the state, as after a batch.
    _TRANSIENT = ("fields_lock", "view", "_unpublished", "_held", "_stale", "_removed")

    def __getstate__(self) -> dict[str, Any]:
        if self._held:
            raise RuntimeError("an index is pickled between batches, never while held")
        return {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_live_tf" not in state:  # an older image: count them once
            self._live_tf = np.zeros(len(self._terms), dtype=np.int64)
            for seg in self._segments:
                live_rows_per_term(seg.term_ptr, seg.docs, self._alive, self._live_tf)
        self.fields_lock = threading.Lock()
        self._held = self._stale = False
        self._unpublished = None
        self._removed = []
        self._publish()

    def hold(self) -> None:
        """Keep the writer's changes from readers until :meth:`release`."""
        self._held = True

    def prepare(self) -> None:
        """Build the view :meth:`release` will publish, so that publishing is quick."""
        if self._held:
            self._writer_view()

    def release(self, publish: bool = True) -> None:
        """Publish what changed while held, in one assignment (``publish=False``: the
        caller throws this index away, e.g. after a rolled-back batch)."""
        self._held = False
        if publish and self._stale:
            view = self._writer_view()
            with self.fields_lock:
                self.field_store.remove_many(self._removed)
                self.view = view
        self._removed = []
        self._unpublished = None
        self._stale = False

    def _publish(self) -> None:
        if self._held:
            self._stale = True
            self._unpublished = None
            return
        self.view = self._build_view()

    def _writer_view(self) -> IndexView:
        """The view of every change so far, published or not: what the writer itself
        reads (a deletion by filter after another in the same batch must see it)."""
        if not self._stale:
            return self.view
        if self._unpublished is None:
            self._unpublished = self._build_view()
        return self._unpublished

    def _build_view(self) -> IndexView:
        self._vocab.extend()
        snapshot = Snapshot(
            segments=tuple(self._segments),
            alive=self._alive.copy(),
            field_len=self._field_len,
            docs=self._docs.published(),  # shares the documents: no copy (doctable.py)
            ext_ids=self._ext_ids,
            tie=self._tie_room[: self._alive.size],
            terms=self._terms,
            n_terms=len(self._terms),
            vocabulary=self._vocab.view(),
            field_names=list(self._field_names),
            n_alive=int(self._alive.sum()),
        )
        # The version's live rows per term (expand.term_frequencies), kept by the writer.
        snapshot.cached("tf", lambda: self._live_tf[: snapshot.n_terms].copy())
        dead_terms(snapshot)
        # Published by one reference assignment: readers see the old view or the new
        # one, whole.
        return IndexView(snapshot, self.settings, self.analyzer, self.searchable,
                              self.field_store, self.fields_lock)

    @property
    def snapshot(self) -> Snapshot:
        return self.view.snapshot

    def derived(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """IndexView.derived on the current view (callers that pass the index itself
        where a view is expected, such as the hybrid search)."""
        return self.view.derived(key, build)

    def _is_searchable(self, name: str) -> bool:
        if "*" in self.searchable:
            return True
        return any(name == a or name.startswith(a + ".") for a in self.searchable)

    def _field_id(self, name: str) -> int:
        fid = self._field_ids.get(name)
        if fid is None:
            fid = len(self._field_names)
            self._field_ids[name] = fid
            self._field_names.append(name)
        return fid

    def upsert(self, docs: Sequence[tuple[str, dict[str, Any]]],
               encoded: list[bytes] | None = None) -> None:
        """Add documents; an existing external id is replaced. ``encoded``: each
        document's JSON as ``orjson.dumps`` writes it, when the caller has it already
        (kept by the document table instead of written again)."""
        if not docs:
            return
        latest: dict[str, dict[str, Any]] = dict(docs)
        if len(latest) < len(docs):  # a repeated id: its last version wins, at its last place
            encoded = None  # no longer in the documents' order
            latest = {}
            for ext, doc in docs:
                latest.pop(ext, None)
                latest[ext] = doc
        shards: list[str] = []
        if self.partition is not None:
            labels = {ext: self.partition.shard_of(ext) for ext in latest}
            # A document of a shard held elsewhere may still be here from before its
            # update (never, unless the partition changed without a rebuild): remove it.
            self._remove([e for e in latest if not self.partition.holds(labels[e])
                          and e in self._ext_to_int])
            latest = {e: d for e, d in latest.items() if self.partition.holds(labels[e])}
            encoded = None  # some documents may be left out
            shards = [labels[e] for e in latest]
            if not latest:
                self._publish()
                return
        self._remove(self._ext_to_int.held(list(latest)))
        first = len(self._ext_ids)
        batch = list(latest.values())
        self._docs.extend(first, batch, encoded)
        # Field id per attribute name, or -1 when not searchable: asked once per batch.
        values = batch_values(batch, lambda name: self._field_id(name)
                              if self._is_searchable(name) else -1)
        self._distribution.update(values.names)
        postings, lengths = batch_postings(self.analyzer, self._term_id_of, values.texts,
                                           values.texts_per_value, values.value_doc + first,
                                           values.value_field)
        # An id that is also a term (a number, a lowercase word: searchable ids are) is
        # kept as the term's id, its string made when asked for (sift.engine.extids).
        exts = list(latest)
        tids = self._terms.ids(exts)
        held = self._ext_ids.extend(exts, tids)
        self._ext_to_int.assign(exts, first, tids, held)
        self._grow(first + len(batch), lengths)
        self._tie_room[first : first + len(batch)] = tie_keys(list(latest))
        if postings is not None:
            self._segments.append(Segment.build(*postings, len(self._terms)))
            self._count_rows(postings[0], +1)
        with self.fields_lock:
            # The shard goes to the filters only: hits show the document as stored.
            labelled = ([{**doc, SHARD_FIELD: shard}
                         for doc, shard in zip(latest.values(), shards, strict=True)]
                        if shards else list(latest.values()))
            self.field_store.add_range(first, labelled)
        self._maybe_merge()
        self._publish()

    def _count_rows(self, terms: np.ndarray, sign: int) -> None:
        """Add (``sign`` 1) or take away (-1) rows of ``terms`` to the live counts."""
        n = len(self._terms)
        if self._live_tf.size < n:
            grown = np.zeros(max(n, self._live_tf.size * 3 // 2), dtype=np.int64)
            grown[: self._live_tf.size] = self._live_tf
            self._live_tf = grown
        counts = np.bincount(terms, minlength=n)
        self._live_tf[: counts.size] += sign * counts

    def _uncount(self, docs: list[dict[str, Any]]) -> None:
        """Take the rows of removed documents away from the live counts: analysed again
        as upsert analysed them (same analyzer and fields: settings changes re-index
        everything), in proportion to the documents, not to the index."""
        values = batch_values(docs, lambda name: self._field_id(name)
                              if self._is_searchable(name) else -1)
        postings, _ = batch_postings(self.analyzer, self._term_id_of, values.texts,
                                     values.texts_per_value, values.value_doc,
                                     values.value_field)
        if postings is not None:
            self._count_rows(postings[0], -1)

    def _term_id_of(self, words: list[str]) -> np.ndarray:
        """Each word's term id; new words get the next ids in order of first appearance."""
        return self._terms.add(words)

    def _grow(self, n_docs: int, lengths: np.ndarray) -> None:
        n_fields = max(len(self._field_names), 1)
        # A row is written once, when its docid is new: in an array with room for more
        # rows, a batch writes only its own, and each view publishes the first rows (a
        # slice, which later batches never write). Copying every row at each batch was
        # a tenth of a small batch's indexing time at 200k documents.
        room = self._field_len_room
        n_old = self._field_len.shape[0]
        if n_docs > room.shape[0] or n_fields > room.shape[1]:
            grown = np.zeros((max(n_docs, room.shape[0] * 3 // 2), n_fields), dtype=np.float32)
            grown[:n_old, : room.shape[1]] = room[:n_old]
            room = self._field_len_room = grown
        if lengths.size:
            room[lengths[:, 0], lengths[:, 1]] = lengths[:, 2]
        self._field_len = room[:n_docs]
        if n_docs > self._tie_room.size:  # rows are written once, as _field_len's
            tie = np.zeros(max(n_docs, self._tie_room.size * 3 // 2), dtype=np.uint64)
            tie[: self._tie_room.size] = self._tie_room
            self._tie_room = tie
        alive = np.zeros(n_docs, dtype=bool)
        alive[: self._alive.size] = self._alive
        alive[self._alive.size:] = True
        self._alive = alive

    def _maybe_merge(self) -> None:
        """Tiered merging: fold the newest segments together while they are small next
        to their predecessor, so a stream of small batches costs O(n log n) overall."""
        dead = self._alive.size - int(self._alive.sum())
        if dead > 1000 and dead * 2 > self._alive.size:
            start = 0  # mostly deleted: rewrite everything without the dead rows
        elif len(self._segments) > MAX_SEGMENTS:
            sizes = [seg.size for seg in self._segments]
            start = len(sizes) - 2
            tail = sizes[-1] + sizes[-2]
            while start > 0 and tail * 2 >= sizes[start - 1]:
                start -= 1
                tail += sizes[start]
        else:
            return
        merged = merge_segments(self._segments[start:], self._alive, len(self._terms))
        self._segments = [*self._segments[:start], merged]

    def optimize(self, force: bool = False) -> bool:
        """Merge every segment into one (a search gathers once per segment per word).
        For the writer thread when it has nothing else to do; returns whether it merged.

        Unless ``force``, only when the segments beside the largest hold at least
        OPTIMIZE_SHARE of its rows: a trickle of small batches must not rewrite a large
        index after each one (tiered merging already bounds the segment count)."""
        if not self.merge_due(force):
            return False
        self._segments = [merge_segments(self._segments, self._alive, len(self._terms))]
        self._publish()
        return True

    def merge_due(self, force: bool = False) -> bool:
        """Whether :meth:`optimize` would merge the writer's segments."""
        if len(self._segments) <= 1:
            return False
        sizes = [seg.size for seg in self._segments]
        return force or (sum(sizes) - max(sizes)) >= OPTIMIZE_SHARE * max(sizes)

    def merged_segments(self) -> tuple[list[Segment], Segment] | None:
        """The writer's segments and their merge, where :meth:`optimize` would merge them
        (None otherwise), computed without changing the index: for a stop, which writes
        the merge into the index image (:meth:`adopt_merge`) only if it came in time
        (IndexCatalog.save_images). Reads the writer's state: call between batches."""
        if not self.merge_due():
            return None
        segments = list(self._segments)
        return segments, merge_segments(segments, self._alive, len(self._terms))

    def adopt_merge(self, segments: list[Segment], merged: Segment) -> bool:
        """Make ``merged`` (of :meth:`merged_segments`) the writer's one segment if its
        segments are still ``segments``; nothing is published: the published view's
        segments hold the same live rows, and a pickle (sift.engine.image) holds the
        writer's state, so the image of a stop loads with nothing left to merge. The
        next change publishes a view of the merged segment."""
        current = self._segments
        if len(current) != len(segments) or any(
            a is not b for a, b in zip(current, segments, strict=True)
        ):
            return False  # a batch changed them meanwhile
        self._segments = [merged]
        return True

    def warm(self) -> int:
        """What the first searches of a new version would build, built now by the writer
        thread once it has nothing else to do (after :meth:`optimize`): the filter and
        facet views of every filterable field (:meth:`warm_fields`) and the dense
        one-letter prefixes' totals (:meth:`warm_prefixes`, whose count it returns), and
        the typo rows (:meth:`warm_words`) of the version a merge just published."""
        self.warm_fields()
        self.warm_words()
        return self.warm_prefixes()

    def warm_fields(self) -> None:
        """Build the views filters and facet counts read of every filterable field
        (sift.engine.fields.groups, FieldValues.warm), which a write drops: otherwise the
        first `price < 50` or `brand` facet after a batch builds them, 75-166 ms at 1M
        products. Meilisearch builds its facet databases while indexing; here they are
        built by the writer thread after the batch is published, one field at a time,
        so a search waits for the fields lock at most one field's build. Only what is
        not built yet is built."""
        with self.fields_lock:
            names = self.field_store.fields()
        for name in names:
            with self.fields_lock:
                self.field_store.warm(name)

    def warm_words(self) -> None:
        """Build the published vocabulary's compact rows for typo searches
        (Vocabulary.typo_rows), which every new version's vocabulary builds again: ~3 ms
        a 41k-term vocabulary, otherwise paid by the first search after a batch that
        allows a typo."""
        self.view.snapshot.vocabulary.typo_rows  # noqa: B018  (a cached property, built)

    def warm_prefixes(self) -> int:
        """Build the cached totals (sift.engine.word_totals) of the dense one-letter
        prefixes of the published view, as their first searches would, so that no
        visitor's first keystroke pays for them. For the writer thread when it has
        nothing else to do (after :meth:`optimize`); returns the words built."""
        view = self.view
        rules = view.settings["rankingRules"]
        if "relevance" not in rules or not BUCKET_RULES.isdisjoint(rules):
            return 0  # a bucket rule reads the occurrences: no totals are kept
        letters = dense_letters(view.snapshot)
        for letter in letters:
            pipeline.search(view, SearchParams(q=letter, limit=1))
        return len(letters)

    def _labelled(self, ext: str, doc: dict[str, Any]) -> dict[str, Any]:
        """The document as upsert gave it to the field store (with its shard)."""
        if self.partition is None:
            return doc
        return {**doc, SHARD_FIELD: self.partition.shard_of(ext)}

    def _remove(self, ext_ids: Iterable[str]) -> int:
        gone = []
        docs: list[dict[str, Any]] = []  # as upsert indexed them (without a shard label)
        for ext in ext_ids:
            docid = self._ext_to_int.pop(ext, None)
            if docid is None:
                continue
            self._alive[docid] = False
            doc = self._docs.pop(docid)
            self._distribution.subtract(doc.keys())
            # The field store finds the bitmaps a document is in from the document.
            gone.append((docid, self._labelled(ext, doc)))
            docs.append(doc)
        if gone and self._held:
            # The published snapshot still has them alive: its filters must find them.
            self._removed.extend(gone)
        elif gone:
            with self.fields_lock:
                self.field_store.remove_many(gone)
        if gone:
            self._distribution = +self._distribution
            self._uncount(docs)
        return len(gone)

    def delete(self, ids: Iterable[str]) -> None:
        if self._remove(list(ids)):
            self._maybe_merge()
            self._publish()

    def clear(self) -> None:
        # A new field store: the published view keeps the old one until it is replaced.
        self._reset()

    def set_settings(self, settings: dict[str, Any]) -> None:
        """Apply new settings and re-index every document with them."""
        docs = [(self._ext_ids[d], self._docs[d]) for d in sorted(self._docs)]
        self._apply_settings(settings)
        self._reset(publish=False)  # readers keep the old view until the new one is built
        self.upsert(docs)
        if not docs:
            self._publish()

    # ----------------------------------------------------------------- reading

    def document_count(self) -> int:
        return self.snapshot.n_alive

    def field_distribution(self) -> dict[str, int]:
        return dict(sorted(self._distribution.items()))

    def search(self, params: SearchParams) -> dict[str, Any]:
        """A keyword search (the HTTP side adds a semantic leg: sift.engine.pipeline)."""
        return pipeline.search(self.view, params)

    def statistics(self, params: SearchParams, shards: tuple[str, ...] | None) -> CorpusStats:
        """This node's corpus statistics for a query, over the documents of ``shards``
        (None: every document it holds), for a network search to add up."""
        return query_statistics(self.view, params, shards)

    def click_signal(self, snap: Snapshot, clicks: QueryClicks) -> ClickSignal:
        """A query's clicked documents as docids of ``snap`` (sift.engine.clicks)."""
        return clicks.on(snap.alive, snap.ext_ids, self._ext_to_int)

    def facet_search(self, body: dict[str, Any]) -> dict[str, Any]:
        return run_facet_search(self.view, body)

    def sorted_ids(self, sort: list[str], filter: Any) -> list[str]:
        """External ids of every document (or those matching ``filter``) in ``sort`` order."""
        view = self.view
        snap = view.snapshot
        docids = sorted_docids(view, snap, sort, filter, "invalid_document_sort")
        return [snap.ext_ids[i] for i in docids.tolist()]

    def filter_ids(self, filter: Any, unpublished: bool = False) -> list[str]:
        """External ids of the documents matching ``filter``; ``unpublished``: with the
        writer's changes not yet published (the task worker's own reads)."""
        view = self._writer_view() if unpublished else self.view
        snap = view.snapshot
        ids = filter_docids(view, snap, filter, "invalid_document_filter")
        return [snap.ext_ids[i] for i in ids.tolist()]
