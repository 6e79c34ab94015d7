"""The in-memory index behind text search: a suffix array over every customer's
``search_text``, with the columns the filters and the relevance order read. It also
answers analytics' counts (``SearchIndex.tally``) from the same columns and those of
analytics' dimensions, with each customer's month of creation and credit limit.

A text search must find a term anywhere in the haystack (``contains``), so an ordinary
index cannot help and SQL scans all of ``search_text`` (50-270 ms at 1M customers).
Here the haystacks of all customers lie end to end in one byte string; its suffix
array lists every position in the sorted order of the text that follows it, so the
positions where a term occurs are one contiguous slice of it, found by binary search
(only the even positions are listed: ``_Base``). Filters and the relevance key
(rank, -updated_at, id) are then evaluated with numpy over those customers, with
exactly the rules ``lib.customers.search`` renders as SQL (``Conditions`` and
``RankRule``); the SQL stays as the fallback and is what the tests compare against.

Kept in step with writes: every audited customer write notes the customer
(``lib.core.db.note_change``, topic ``customers``); after the commit the index queues
its id, and the next search re-reads the queued customers and keeps them beside the
array (``delta``), masking their old entries. Past ``REBUILD_AFTER`` such rows, or
after a bulk change (the demo loader notes "everything"), the array is rebuilt, in a
background thread on a large base; until it is ready, searches use the SQL. DuckDB
only: a PostgreSQL backend would use a trigram index (pg_trgm) instead.

Memory: the text and the array of its even suffixes take about 3 bytes per byte of
haystack (3.5 with the rest); docs/design.md has the measurements.
"""
from __future__ import annotations

import contextlib
import ctypes
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.core.clock import SHANGHAI_OFFSET_HOURS
from lib.customers import fields as F
from lib.customers import suffix_sort
from lib.core.text import SEP
from lib.customers.customer import CHANGES as TOPIC

log = logging.getLogger(__name__)

SYNC_ROWS = 200_000  # build on first use up to this many customers; above, in the background
REBUILD_AFTER = 5_000  # changed customers kept beside the array (each search tests them in Python)
_NULL_US = np.iinfo(np.int64).min  # a NULL reviewed_at: "never", before any date
_ALL = object()  # a change note of "everything"


_US = datetime(1970, 1, 1, 0, 0, 0, 1) - datetime(1970, 1, 1)


def micros(dt: datetime) -> int:
    """A TIMESTAMP parameter as DuckDB's ``epoch_us`` sees it (naive means UTC)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return (dt - datetime(1970, 1, 1)) // _US


def _columns() -> list[str]:
    """The choice columns read besides the fixed ones (owner is always read): every
    filter's and every analytics dimension's."""
    fields = dict.fromkeys(f.db_column for f in (*F.filter_fields(), *F.dimension_fields()))
    return [c for c in fields if c != "owner"]


def _select(where: str = "") -> str:
    extra = "".join(f", c.{c}" for c in _columns())
    return ("SELECT c.id, c.search_text, c.owner, c.archived, c.merged_into IS NULL AS live,"
            " epoch_us(c.created_at) AS created_us, epoch_us(c.reviewed_at) AS reviewed_us,"
            " epoch_us(c.updated_at) AS updated_us, CAST(c.credit_limit * 100 AS BIGINT) AS credit_cents"
            f"{extra} FROM customers c{where}")


_DAY_US = 86_400_000_000
_LOCAL_US = SHANGHAI_OFFSET_HOURS * 3_600_000_000


def local_month(created_us: np.ndarray) -> np.ndarray:
    """The Asia/Shanghai month of each instant (epoch microseconds), as months since
    1970-01: the month analytics counts a customer's creation in."""
    days = ((created_us + _LOCAL_US) // _DAY_US).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64)


@dataclass
class _Codes:
    """A text column as integer codes (-1: NULL) and the code of each value."""

    codes: np.ndarray
    of: dict[str, int]

    @classmethod
    def encode(cls, column: pa.ChunkedArray) -> "_Codes":
        enc = pc.dictionary_encode(column.combine_chunks())
        codes = enc.indices.to_numpy(zero_copy_only=False)
        # The narrowest type that holds every code and the +1 of ``isin`` (a column of a
        # few choices: one byte a customer instead of four).
        n = len(enc.dictionary)
        small = np.int8 if n < 127 else np.int16 if n < 32_767 else np.int32
        codes = np.where(enc.indices.is_null().to_numpy(zero_copy_only=False), -1, codes).astype(small)
        return cls(codes, {v: i for i, v in enumerate(enc.dictionary.to_pylist())})

    def isin(self, values: Iterable[str], rows: np.ndarray) -> np.ndarray:
        """For each of ``rows``: is its value one of ``values``? (A table look-up per
        row, cheaper than np.isin's sort.)"""
        allowed = np.zeros(len(self.of) + 1, dtype=bool)  # slot 0: NULL
        for v in values:
            if v in self.of:
                allowed[self.of[v] + 1] = True
        return allowed[self.codes[rows] + 1]


@dataclass
class _Row:
    """One customer re-read after a change, evaluated in Python."""

    id: int
    text: str
    owner: str | None
    archived: bool
    live: bool
    created_us: int
    reviewed_us: int | None
    updated_us: int
    credit_cents: int | None
    choices: dict[str, Any]

    def passes(self, cond) -> bool:
        if not self.live or (cond.owner is not None and self.owner != cond.owner):
            return False
        if (cond.archived == "active" and self.archived) or (cond.archived == "archived" and not self.archived):
            return False
        if any(self.choices.get(col) not in values for col, values in cond.choices):
            return False
        if cond.created_from and self.created_us < micros(cond.created_from):
            return False
        if cond.created_before and self.created_us >= micros(cond.created_before):
            return False
        if cond.reviewed_before and self.reviewed_us is not None and self.reviewed_us >= micros(cond.reviewed_before):
            return False
        return all(t in self.text for t in cond.terms)

    def rank(self, rules) -> int:
        for rule in rules:
            if (any(self.text.startswith(s) for s in rule.starts) or any(s in self.text for s in rule.contains)
                    or any(f"\x1f{p}\x1f" in self.text for p in rule.parts)):
                return rule.rank
        return 3


_ROW_MARK = 0xFF  # before each haystack in the text: a byte no UTF-8 string contains
_ONE = np.uint64(1)
# A term's rest (less its first byte) found more often than this many times the number of
# bytes seen before the term's first byte: look up each such byte followed by the term
# instead (a look-up costs about what filtering 4,000 entries of the rest's slice costs).
_LOOK_BEFORE_PER_BYTE = 4_000
_MAX_CODE_BITS = 8  # enough for a code of every byte value that occurs
_CODE_STEP = 2_000_000  # array entries given their code at a time (bounds the temporaries: ~50 MB)
_DENSE = 16  # terms held by more than one customer in this many: filter and rank whole columns
_PAIRS = 256 * 257  # two-byte starts of a suffix: the first byte, then the second or none
_WALK_ABOVE = 64  # a rank held by more than one row in this many: walk the key order for a page


class _Base:
    """The suffix array and columns of every customer as of one snapshot.

    ``text`` holds each customer's haystack preceded by ``_ROW_MARK`` (0xFF, which no
    UTF-8 string contains, so no term ever runs into the next customer, and a haystack
    that starts with a term is the term preceded by the mark). ``sa`` lists only the
    suffixes at even positions: an occurrence at an odd position is found as the term
    less its first byte one position later, preceded by that byte. The customer of a
    position is the number of marks up to it (``_row_of``: a bit per byte and a count
    per 32 bytes), so no per-entry row map is kept. Costs: docs/design.md."""

    def __init__(self, source: pa.Table | pa.RecordBatchReader, *, sort=suffix_sort.even_suffixes):
        """``source``: the rows of ``_select()``, read a batch at a time (the haystacks
        are copied into the text batch by batch, never all held as strings at once).
        ``sort``: makes the suffix array from the text; None: call ``sort_suffixes``
        later (the build does, once it no longer reads the database)."""
        # The text grows in place (a realloc, not a list of chunks joined at the end,
        # which would hold it twice).
        data, mark_parts, rest = bytearray(), [], []
        for batch in (source.to_batches() if isinstance(source, pa.Table) else source):
            text = batch.column("search_text")
            if not pa.types.is_large_string(text.type):
                text = text.cast(pa.large_string())
            k = len(text)
            offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset:text.offset + k + 1]
            raw = np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
            offsets = offsets - offsets[0]
            mark_parts.append(len(data) + offsets[:-1] + np.arange(k))  # where each haystack's mark lands
            data += memoryview(np.insert(raw, offsets[:-1], _ROW_MARK))
            rest.append(batch.drop_columns(["search_text"]))
            del text, raw, batch
        schema = source.schema
        table = pa.Table.from_batches(rest, schema.remove(schema.get_field_index("search_text")))
        del rest
        self.data = data
        marks = np.concatenate(mark_parts) if mark_parts else np.zeros(0, np.int64)
        del mark_parts
        n = len(table)
        self.n = n
        self.ids = table.column("id").to_numpy()
        # Rows come in storage order, which is id order unless ids were given out of order.
        self.by_id = None if bool(np.all(self.ids[1:] > self.ids[:-1])) else np.argsort(self.ids)
        self.text = np.frombuffer(self.data, dtype=np.uint8)
        # Per 32 bytes of text, one word: the marks before them (high half) and a bit
        # for each of the 32 that is a mark (low half): one memory read per look-up.
        bits = np.zeros(len(self.data) // 32 + 1, dtype=np.uint64)
        np.bitwise_or.at(bits, marks >> 5, _ONE << (marks & 31).astype(np.uint64))
        del marks
        before = np.zeros(len(bits), dtype=np.uint64)
        np.cumsum(np.bitwise_count(bits[:-1]), out=before[1:])
        before <<= np.uint64(32)
        bits |= before
        del before
        self.marks = bits
        self.sa = None
        if sort is not None:
            self.sort_suffixes(sort)
        self.live = table.column("live").to_numpy(zero_copy_only=False)
        self.archived = table.column("archived").to_numpy(zero_copy_only=False)
        self.owner = _Codes.encode(table.column("owner"))
        self.choices = {c: _Codes.encode(table.column(c)) for c in _columns()}
        self.choices["owner"] = self.owner
        self.created_us = table.column("created_us").to_numpy(zero_copy_only=False).astype(np.int64)
        self.reviewed_us = table.column("reviewed_us").fill_null(_NULL_US).to_numpy().astype(np.int64)
        # Analytics' month of creation (from ``first_month``) and credit limit.
        month = local_month(self.created_us)
        self.first_month = int(month.min()) if n else 0
        self.month_span = int(month.max()) - self.first_month + 1 if n else 1
        self.month = (month - self.first_month).astype(np.int16 if self.month_span < 32_767 else np.int32)
        del month
        self.credit_cents = table.column("credit_cents").fill_null(0).to_numpy().astype(np.int64)
        # Can every sum of limits be taken in 64 bits (with REBUILD_AFTER more beside)?
        self.sums_fit = int(self.credit_cents.max(initial=0)) * (n + REBUILD_AFTER + 1) < 2 ** 62
        self._grouped: dict[tuple, _Counts] = {}  # analytics' counts per owner and archived
        neg_updated = -table.column("updated_us").to_numpy(zero_copy_only=False).astype(np.int64)
        # The relevance key after the rank is (-updated_us, id): each row's place in it,
        # and the rows in that order (a row's -updated_us is sorted_neg_updated[place]).
        self.by_key = np.lexsort((self.ids, neg_updated)).astype(np.int32)
        self.sorted_neg_updated = neg_updated[self.by_key]
        del neg_updated
        self.place = np.empty(n, dtype=np.int32)
        self.place[self.by_key] = np.arange(n, dtype=np.int32)

    def sort_suffixes(self, sort) -> None:
        """Make the suffix array (``sort``: e.g. ``suffix_sort.sort``), then mark each
        entry with the code of the byte before its suffix (``prev_code``)."""
        sa = sort(self.data).view(np.uint32)
        self.pos_bits = max(1, len(self.data).bit_length())
        self.pos_mask = np.uint32((1 << self.pos_bits) - 1)
        self.code_bits = min(_MAX_CODE_BITS, 32 - self.pos_bits)
        # The bits a position leaves free hold a code of the byte before it, so that a
        # term found one byte late (at an odd position) is checked against its first
        # byte in the array's own slice, not by reading the text at random. The mark,
        # the separator and the most frequent bytes get a code of their own (then the
        # code is the check); the other bytes share code 0 and are checked in the text.
        self.prev_code = np.zeros(256, dtype=np.uint32)
        self.code_exact = np.zeros(256, dtype=bool)
        counts = np.zeros(256, dtype=np.int64)  # by slices: bincount counts in 8-byte integers
        for i in range(0, len(self.text), _CODE_STEP):
            counts += np.bincount(self.text[i:i + _CODE_STEP], minlength=256)
        if self.code_bits:
            counts[[_ROW_MARK, ord(SEP)]] = len(self.text) + 1  # always their own
            own = np.argsort(-counts, kind="stable")[:(1 << self.code_bits) - 1]
            own = own[counts[own] > 0]
            self.prev_code[own] = np.arange(1, len(own) + 1, dtype=np.uint32)
            self.code_exact[own] = True
            shift = np.uint32(self.pos_bits)
            for i in range(0, len(sa), _CODE_STEP):
                part = sa[i:i + _CODE_STEP]
                part |= self.prev_code[self.text[part.astype(np.int64) - 1]] << shift
        self.sa = sa
        # Where each two-byte start begins in the array: a search starts within its
        # pair's range, and a term found one byte late tries only the bytes that occur
        # before its first byte (``_after_any_byte``). Key a*257 + b+1 (0: the last byte
        # of the text alone, which sorts before any longer suffix of a).
        counts = np.zeros(_PAIRS, dtype=np.int64)
        even = self.text[0::2]
        for i in range(0, len(even), _CODE_STEP):
            first = even[i:i + _CODE_STEP].astype(np.int64)
            second = self.text[2 * i + 1:2 * (i + len(first)):2].astype(np.int64) + 1
            if len(second) < len(first):  # the text's last byte, at an even position
                second = np.append(second, 0)
            counts += np.bincount(first * 257 + second, minlength=_PAIRS)
        self.pair_start = np.zeros(_PAIRS + 1, dtype=np.int64)
        np.cumsum(counts, out=self.pair_start[1:])

    def grouped_counts(self, columns: tuple[str, ...], pair, sum_by) -> _Counts:
        """Analytics' counts of every row by owner and archived, computed once per base
        and spec: group ``(owner code + 1) * 2 + archived``; the last group holds the
        merged rows, never counted (``groups_of``)."""
        groups = (len(self.owner.of) + 1) * 2 + 1
        key = (columns, pair, sum_by)
        found = self._grouped.get(key)
        if found is None:
            group = np.where(self.live, (self.owner.codes.astype(np.int64) + 1) * 2 + self.archived, groups - 1)
            found = self._grouped[key] = _Counts(self, slice(None), group, groups, columns, pair, sum_by)
        return found

    def groups_of(self, cond) -> list[int]:
        """The groups of ``grouped_counts`` whose rows meet ``cond``'s scope and archived
        state (the only conditions it may hold: see ``SearchIndex.tally``)."""
        if cond.owner is None:
            owners = range(len(self.owner.of) + 1)
        else:
            owners = [self.owner.of[cond.owner] + 1] if cond.owner in self.owner.of else []
        states = {"active": (0,), "archived": (1,)}.get(cond.archived, (0, 1))
        return [o * 2 + a for o in owners for a in states]

    def rows_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """The rows of those of ``ids`` that this base holds."""
        ordered = self.ids if self.by_id is None else self.ids[self.by_id]
        at = np.searchsorted(ordered, ids)
        ok = at < self.n
        at, ids = at[ok], ids[ok]
        at = at[ordered[at] == ids]
        return at if self.by_id is None else self.by_id[at]

    @property
    def nbytes(self) -> int:
        """What the base holds: the text, the array, and every per-customer column."""
        arrays = [v for k, v in vars(self).items() if isinstance(v, np.ndarray) and k != "text"]  # text: data
        codes = [c.codes for c in self.choices.values()]
        return len(self.data) + sum(a.nbytes for a in arrays) + sum(c.nbytes for c in codes)

    def _row_of(self, pos: np.ndarray) -> np.ndarray:
        """The customer (row) of each text position (int64): the marks at or before it,
        less one."""
        word = self.marks[pos >> 5]
        upto = (np.uint64(2) << (pos & 31).astype(np.uint64)) - _ONE  # bits 0..pos%32
        return (word >> np.uint64(32)).astype(np.int64) + np.bitwise_count(word & upto).astype(np.int64) - 1

    def _slice(self, pattern: bytes) -> tuple[int, int]:
        """The suffix array's slice of the (even) suffixes that start with ``pattern``."""
        sa, data, m, mask = self.sa, self.data, len(pattern), int(self.pos_mask)
        if m == 1:
            return int(self.pair_start[pattern[0] * 257]), int(self.pair_start[(pattern[0] + 1) * 257])
        key = pattern[0] * 257 + pattern[1] + 1
        lo, hi = int(self.pair_start[key]), int(self.pair_start[key + 1])
        if m == 2 or lo == hi:
            return lo, hi
        end = hi
        while lo < hi:
            mid = (lo + hi) // 2
            s = int(sa[mid]) & mask
            if data[s:s + m] < pattern:
                lo = mid + 1
            else:
                hi = mid
        first, hi = lo, end
        while lo < hi:
            mid = (lo + hi) // 2
            s = int(sa[mid]) & mask
            if data[s:s + m] <= pattern:
                lo = mid + 1
            else:
                hi = mid
        return first, lo

    def positions(self, p: bytes) -> np.ndarray:
        """Every position of ``p`` in the text (unordered)."""
        if not p:
            return np.flatnonzero(self.text != _ROW_MARK)
        lo, hi = self._slice(p)
        even = (self.sa[lo:hi] & self.pos_mask).astype(np.int64)
        if len(p) == 1:  # no shorter rest to look up: each byte, then p (not a scan of the text)
            return np.concatenate([even, self._after_any_byte(p)])
        else:  # the rest, one byte later, where the byte before it is p[0]
            lo, hi = self._slice(p[1:])
            if hi - lo > _LOOK_BEFORE_PER_BYTE and hi - lo > _LOOK_BEFORE_PER_BYTE * len(self._bytes_before(p[0])):
                return np.concatenate([even, self._after_any_byte(p)])
            after = self.sa[lo:hi]
            if self.code_bits:
                after = after[(after >> np.uint32(self.pos_bits)) == self.prev_code[p[0]]]
            after = (after & self.pos_mask).astype(np.int64)
            after = after[after > 0]
            if not self.code_exact[p[0]]:
                after = after[self.text[after - 1] == p[0]]
            odd = after - 1
        return np.concatenate([even, odd])

    def _bytes_before(self, b: int) -> list[int]:
        """The bytes found at an even position just before byte ``b``."""
        at = np.arange(256) * 257 + b + 1
        return np.flatnonzero(self.pair_start[at + 1] > self.pair_start[at]).tolist()

    def _after_any_byte(self, p: bytes) -> np.ndarray:
        """The odd positions of ``p``, as the even suffixes that are one byte and then
        ``p``: a slice for each byte found before ``p[0]`` (for a short rest such as
        the "i" of "li", whose slice is millions long, this is the cheaper way)."""
        found = []
        for x in self._bytes_before(p[0]):
            lo, hi = self._slice(bytes([x]) + p)
            if hi > lo:
                found.append((self.sa[lo:hi] & self.pos_mask).astype(np.int64) + 1)
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def rows_with(self, pattern: str, *, at_start: bool = False) -> np.ndarray:
        """Rows whose haystack contains ``pattern`` (or starts with it); may repeat."""
        p = pattern.encode()
        if at_start:
            p = bytes([_ROW_MARK]) + p
        return self._row_of(self.positions(p))

    def mask(self, rows: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        out[rows] = True
        return out

    def matching(self, cond, stale: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The rows that meet ``cond``, as ``(mask, rows)``: the terms through the suffix
        array, then the other conditions. When few rows hold the terms (at most one in
        ``_DENSE``), the conditions are evaluated on those rows alone and ``rows`` lists
        them (ascending) and ``mask`` is None; otherwise they are evaluated on whole
        columns, and ``rows`` is None."""
        m = self.mask(self.rows_with(cond.terms[0]))
        for term in cond.terms[1:]:
            m &= self.mask(self.rows_with(term))
        if stale is not None:
            m &= ~stale
        if np.count_nonzero(m) * _DENSE > self.n:
            m &= self._passing(cond, slice(None))
            return m, None
        rows = np.flatnonzero(m)
        return None, rows[self._passing(cond, rows)]

    def _passing(self, cond, rows: np.ndarray | slice) -> np.ndarray:
        """For each of ``rows`` (``slice(None)``: every row): does it meet the conditions
        of ``cond`` other than its terms?"""
        keep = self.live[rows].copy()
        if cond.owner is not None:
            keep &= self.owner.isin([cond.owner], rows)
        if cond.archived == "active":
            keep &= ~self.archived[rows]
        elif cond.archived == "archived":
            keep &= self.archived[rows]
        for col, values in cond.choices:
            keep &= self.choices[col].isin(values, rows)
        if cond.created_from:
            keep &= self.created_us[rows] >= micros(cond.created_from)
        if cond.created_before:
            keep &= self.created_us[rows] < micros(cond.created_before)
        if cond.reviewed_before:
            keep &= self.reviewed_us[rows] < micros(cond.reviewed_before)
        return keep

    def rule_hits(self, rule) -> np.ndarray:
        """A mask of the rows for which ``rule`` holds."""
        hit = np.zeros(self.n, dtype=bool)
        for s in rule.starts:
            hit[self.rows_with(s, at_start=True)] = True
        for s in rule.contains:
            hit[self.rows_with(s)] = True
        for p in rule.parts:
            hit[self.rows_with(f"\x1f{p}\x1f")] = True
        return hit

    def ranks(self, rules, rows: np.ndarray) -> np.ndarray:
        rank = np.full(len(rows), 3, dtype=np.int64)
        for rule in reversed(rules):  # the first rule that holds wins: apply it last
            rank[self.rule_hits(rule)[rows]] = rule.rank
        return rank

    def in_key_order(self, tier: np.ndarray, lo: int, hi: int, k: int, backwards: bool) -> np.ndarray:
        """Up to ``k`` rows of mask ``tier`` whose place in the key order lies in
        [lo, hi): the first ones in that order (``backwards``: the last ones, last
        first). A tier of many rows is walked in key order (``by_key``) until ``k`` are
        found, so a term in a third of all customers costs a few thousand look-ups, not
        a sort of its hundreds of thousands of rows."""
        count = int(np.count_nonzero(tier))
        if count == 0 or k <= 0 or lo >= hi:
            return np.zeros(0, dtype=np.int64)
        if count * _WALK_ABOVE < self.n:
            rows = np.flatnonzero(tier)
            place = self.place[rows]
            inside = (place >= lo) & (place < hi)
            rows, place = rows[inside], place[inside]
            order = np.argsort(-place if backwards else place, kind="stable")[:k]
            return rows[order]
        found: list[np.ndarray] = []
        need, step = k, max(4_096, 2 * k * self.n // count)
        at = hi if backwards else lo
        while need > 0 and lo < hi and (at > lo if backwards else at < hi):
            if backwards:
                start, end = max(lo, at - step), at
                chunk = self.by_key[start:end][::-1]
                at = start
            else:
                start, end = at, min(hi, at + step)
                chunk = self.by_key[start:end]
                at = end
            got = chunk[tier[chunk]][:need]
            found.append(got)
            need -= len(got)
            step *= 2
        return np.concatenate(found).astype(np.int64)

    def dense_page(self, m: np.ndarray, rules, cursor: dict | None, backwards: bool,
                   limit: int) -> tuple[np.ndarray, np.ndarray]:
        """For a mask ``m`` of many rows: the rows and ranks of up to ``limit`` of them
        after ``cursor`` (``backwards``: before it) in relevance order, found a rank at a
        time (``in_key_order``) instead of ranking every row. Needs ``rules`` of rising
        ranks below 3 (``rank_rules`` gives 0, 1, 2)."""
        tiers = [rule.rank for rule in rules] + [3]
        at_rank, at = None, None
        if cursor is not None:
            at_rank = cursor["r"]
            at = self.place_of(cursor["u"], cursor["i"], inclusive=not backwards)
        # Mask of each rank: its rule holds and no earlier rule does; rank 3: none holds.
        taken = np.zeros(self.n, dtype=bool)
        masks = []
        for i, rank in enumerate(tiers):
            if i < len(rules):
                hit = self.rule_hits(rules[i])
                masks.append(m & hit & ~taken)
                taken |= hit
            else:
                masks.append(m & ~taken)
        order = range(len(tiers) - 1, -1, -1) if backwards else range(len(tiers))
        rows_out, ranks_out = [], []
        need = limit
        for i in order:
            rank = tiers[i]
            lo, hi = 0, self.n
            if at_rank is not None:
                if (rank > at_rank) if backwards else (rank < at_rank):
                    continue
                if rank == at_rank:
                    if backwards:
                        hi = at
                    else:
                        lo = at
            got = self.in_key_order(masks[i], lo, hi, need, backwards)
            rows_out.append(got)
            ranks_out.append(np.full(len(got), rank, dtype=np.int64))
            need -= len(got)
            if need <= 0:
                break
        if not rows_out:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows_out), np.concatenate(ranks_out)

    def place_of(self, neg_updated: int, cid: int, *, inclusive: bool) -> int:
        """How many rows sort before (or, ``inclusive``, up to) key (neg_updated, id)."""
        lo = int(np.searchsorted(self.sorted_neg_updated, neg_updated, side="left"))
        hi = int(np.searchsorted(self.sorted_neg_updated, neg_updated, side="right"))
        side = "right" if inclusive else "left"  # rows of one updated_us are in id order
        return lo + int(np.searchsorted(self.ids[self.by_key[lo:hi]], cid, side=side))


def _return_freed_heap() -> None:
    """Hand the pages the build's temporaries freed back to the system: pyarrow's pool
    and glibc's heap keep them (~35 and ~40 MB at 1M customers) until asked
    (``malloc_trim``; without glibc there is nothing to ask)."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


_VERSIONS = itertools.count(1)


@dataclass
class _State:
    base: _Base
    delta: dict[int, _Row | None] = field(default_factory=dict)  # id -> re-read row (None: gone)
    stale: np.ndarray | None = None  # base rows replaced by the delta
    # Tells this state from every other of the process: a new one follows each change.
    version: int = field(default_factory=lambda: next(_VERSIONS))

    def __post_init__(self) -> None:
        self.rows = tuple(row for row in self.delta.values() if row is not None)  # the delta's customers

    def passing(self, cond) -> list[_Row]:
        """The delta's customers that meet ``cond``. Every search and every count tests
        them all, so the owner and each term (a comparison and a substring test in C,
        no call per row) narrow them before ``_Row.passes`` (a Python call per row):
        at 1M customers, 4,900 of them cost a search ~5 ms and an analytics count
        ~14 ms, tested by ``passes`` alone (docs/benchmarks.md, "Customers saved since
        the build")."""
        rows: Sequence[_Row] = self.rows
        if cond.owner is not None:
            owner = cond.owner
            rows = [row for row in rows if row.owner == owner]
        for term in cond.terms:
            rows = [row for row in rows if term in row.text]
        return [row for row in rows if row.passes(cond)]


@dataclass
class Tally:
    """Counts of the customers that meet a ``Conditions`` (analytics' aggregate), as the
    index holds them: by code, where index 0 of each count is NULL and index ``k + 1``
    the value ``values[column][k]``. ``pairs``: customers per (code of ``pair[0]``, code
    of ``pair[1]``), flattened (``i * (len(values[pair[1]]) + 1) + j``). ``months``:
    customers per Asia/Shanghai month of creation, from month ``first_month`` (months
    since 1970-01) on. ``credit_by``: the credit limits' sum in cents per code of
    ``sum_by``. ``extra``: customers saved since the build (kept beside the array) that
    meet the conditions, not in the counts."""

    values: dict[str, list[str]]
    n: int
    credit_cents: int
    counts: dict[str, np.ndarray]
    pairs: np.ndarray | None
    months: np.ndarray
    first_month: int
    credit_by: np.ndarray | None
    extra: list[_Row]


class _Counts:
    """The counts of a ``Tally`` for groups of rows at once, in arrays with a row per
    group (``_Base.grouped_counts``), or for one group."""

    def __init__(self, base: "_Base", rows, group: np.ndarray | None, groups: int, columns: Sequence[str],
                 pair: tuple[str, str] | None, sum_by: str | None):
        """``rows``: a mask or the row numbers to count; ``group``: each of those rows'
        group (None: one group)."""
        g = np.zeros(1, dtype=np.int64) if group is None else group.astype(np.int64)
        if isinstance(rows, np.ndarray) and rows.dtype == bool:
            # Indexing by a mask reads the whole mask for every column; by the rows' numbers,
            # only those rows (at 1M, 2-3 ms a column against a fraction of it).
            rows = np.flatnonzero(rows)

        def per_group(codes: np.ndarray, width: int) -> np.ndarray:
            key = g * width + codes if group is not None else codes
            return np.bincount(key, minlength=groups * width).reshape(groups, width)

        def codes_of(column: str) -> np.ndarray:
            return np.add(base.choices[column].codes[rows], 1, dtype=np.int64)

        self.counts = {c: per_group(codes_of(c), len(base.choices[c].of) + 1) for c in columns}
        some = next(iter(self.counts.values()))
        self.n = some.sum(axis=1)
        credit = base.credit_cents[rows]
        total = int(credit.sum())  # exact (the caller checks the sums fit in 64 bits)
        exact = total < 2 ** 53  # float sums of integers stay exact below 2**53
        self.credit = self._sums(g, credit, groups, exact, group is not None).reshape(groups)
        self.pairs = None
        if pair is not None:
            wide = len(base.choices[pair[1]].of) + 1
            self.pairs = per_group(codes_of(pair[0]) * wide + codes_of(pair[1]),
                                   (len(base.choices[pair[0]].of) + 1) * wide)
        self.months = per_group(base.month[rows].astype(np.int64), base.month_span)
        self.credit_by = None
        if sum_by is not None:
            wide = len(base.choices[sum_by].of) + 1
            key = (g * wide if group is not None else 0) + codes_of(sum_by)
            self.credit_by = self._sums(key, credit, groups * wide, exact, True).reshape(groups, wide)

    def summed(self, groups: Sequence[int], less: "_Counts | None" = None) -> dict[str, Any]:
        """The counts of ``groups`` together (less the one group of ``less``), by name
        as ``Tally`` holds them."""
        def total(a: np.ndarray | None, minus: np.ndarray | None) -> Any:
            if a is None:
                return None
            out = a[list(groups)].sum(axis=0)
            return out if minus is None else out - minus[0]

        def of_less(name: str) -> np.ndarray | None:
            return None if less is None else getattr(less, name)

        return {"n": int(total(self.n, of_less("n"))), "credit_cents": int(total(self.credit, of_less("credit"))),
                "counts": {c: total(a, None if less is None else less.counts[c]) for c, a in self.counts.items()},
                "pairs": total(self.pairs, of_less("pairs")), "months": total(self.months, of_less("months")),
                "credit_by": total(self.credit_by, of_less("credit_by"))}

    @staticmethod
    def _sums(key: np.ndarray, weights: np.ndarray, size: int, exact: bool, grouped: bool) -> np.ndarray:
        """The sum of ``weights`` per ``key`` (0 .. size-1), in int64."""
        if not grouped:
            return np.array([int(weights.sum())], dtype=np.int64)
        if exact:
            return np.bincount(key, weights=weights, minlength=size).astype(np.int64)
        out = np.zeros(size, dtype=np.int64)
        np.add.at(out, key, weights)
        return out


class SearchIndex:
    """One per database (``db.service``); see the module docstring."""

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._pending: set[int] = set()  # customers changed since the last refresh
        self._since_build: set[int] | None = None  # while a build runs: what changed meanwhile
        self._building: threading.Thread | None = None
        self._reader = None  # the cursor a build is reading with, while it reads
        self._sorter = None  # the child process sorting a large build's suffixes, while it runs
        self._read_done = threading.Event()  # clear while a build reads the database
        self._read_done.set()
        self._closed = False
        db.on_commit(TOPIC, self._noted)

    # -- keeping in step ---------------------------------------------------------------
    def _noted(self, keys: list[Any]) -> None:
        with self._lock:
            if any(k is None for k in keys):
                self._state = None  # everything changed: rebuild, SQL meanwhile
                self._pending.clear()
                if self._since_build is not None:
                    self._since_build.add(_ALL)  # type: ignore[arg-type]
                return
            self._pending.update(keys)
            if self._since_build is not None:
                self._since_build.update(keys)

    def _read_rows(self, ids: list[int]) -> dict[int, _Row | None]:
        out: dict[int, _Row | None] = dict.fromkeys(ids)
        cols = _columns()
        with self.db.read() as cur:
            for i in range(0, len(ids), 1000):
                chunk = ids[i:i + 1000]
                res = cur.execute(_select(" WHERE c.id IN (SELECT unnest(?::BIGINT[]))"), [chunk]).fetchall()
                for r in res:
                    out[r[0]] = _Row(id=r[0], text=r[1], owner=r[2], archived=r[3], live=r[4], created_us=r[5],
                                     reviewed_us=r[6], updated_us=r[7], credit_cents=r[8],
                                     choices={"owner": r[2], **dict(zip(cols, r[9:]))})
        return out

    def _with_delta(self, state: _State, rows: dict[int, _Row | None]) -> _State:
        delta = {**state.delta, **rows}
        stale = state.stale.copy() if state.stale is not None else np.zeros(state.base.n, dtype=bool)
        stale[state.base.rows_of_ids(np.fromiter(rows, dtype=np.int64, count=len(rows)))] = True
        return _State(state.base, delta, stale)

    def current(self) -> _State | None:
        """The index with every change noted so far applied, or None while it is not built
        (the caller then uses the SQL)."""
        if self._closed:
            return None
        with self._lock:
            state = self._state
            if state is not None and not set(_columns()) <= state.base.choices.keys():
                # A filter field added since the build (an administrator's custom field,
                # or one made a filter): its column is not held. Rebuild; SQL meanwhile.
                state = self._state = None
                self._pending.clear()
            if state is None:
                building = self._building is not None
            else:
                pending, self._pending = self._pending, set()
                if pending:
                    state = self._state = self._with_delta(state, self._read_rows(sorted(pending)))
                if len(state.delta) > REBUILD_AFTER and self._building is None:
                    self._start_build(background=True)
                return state
        if building:
            return None
        return self.build()

    def build(self, *, background: bool | None = None) -> _State | None:
        """(Re)build now, or in a background thread above ``SYNC_ROWS`` customers."""
        with self._lock:
            if self._building is not None:
                return None
            if background is None:
                with self.db.read() as cur:
                    background = cur.execute("SELECT count(*) FROM customers").fetchone()[0] > SYNC_ROWS
            self._start_build(background=background)
            thread = self._building
        if thread is None:  # built synchronously
            return self._state
        return None

    def _start_build(self, *, background: bool) -> None:
        # Caller holds the lock. Record changes from now on, then take the snapshot: a
        # change committed before the snapshot is in it; one after is re-read.
        self._since_build = set()
        self._read_done.clear()
        if background:
            self._building = threading.Thread(target=self._build, name="search-index", daemon=True)
            self._building.start()
        else:
            self._building = threading.current_thread()
            self._lock.release()
            try:
                self._build()
            finally:
                self._lock.acquire()

    def _build(self) -> None:
        try:
            try:
                with self.db.read() as cur:
                    self._reader = cur
                    # In storage order, a batch at a time: an ORDER BY would make DuckDB
                    # sort every haystack first (~400 MB more at 1M customers).
                    base = _Base(cur.sql(_select()).to_arrow_reader(65_536), sort=None)
            finally:
                self._reader = None
                self._read_done.set()
            base.sort_suffixes(lambda text: suffix_sort.sort(text, on_start=self._sorting))
            _return_freed_heap()
        except Exception:
            if not self._closed:
                log.exception("search index build failed; searches use SQL")
            with self._lock:
                self._building, self._since_build = None, None
            return
        with self._lock:
            changed, self._since_build, self._building = self._since_build, None, None
            if self._closed:
                return
            if changed and _ALL in changed:  # type: ignore[operator]
                self._state = None
                return
            self._pending.update(changed or ())
            self._state = _State(base)
        log.info("search index built: %d customers, %.0f MB", base.n, base.nbytes / 1e6)

    def _sorting(self, proc) -> None:
        self._sorter = proc
        if self._closed:
            proc.kill()

    def close(self) -> None:
        """Stop using the index. A build still reading the database is interrupted and
        waited for (the connection cannot close under it); the rest of a build needs
        no database and is dropped when it ends."""
        self._closed = True
        deadline = time.monotonic() + 30
        while not self._read_done.wait(0.02) and time.monotonic() < deadline:
            reader = self._reader
            if reader is not None:
                with contextlib.suppress(Exception):
                    reader.interrupt()
        sorter = self._sorter
        if sorter is not None and sorter.poll() is None:
            sorter.kill()  # the build then fails quietly (closed)
        with self._lock:
            self._state = None

    # -- answering ---------------------------------------------------------------------
    def ids_containing(self, patterns: Sequence[str] = (), *, starts: Sequence[str] = ()) -> list[int] | None:
        """Ids (ascending) of the customers whose search text contains one of
        ``patterns`` or starts with one of ``starts`` (lower-case, as the text is),
        merged ones included; None while the index is not built (the caller then uses
        the SQL)."""
        state = self.current()
        if state is None:
            return None
        base = state.base
        hit = np.zeros(base.n, dtype=bool)
        for pattern in patterns:
            hit[base.rows_with(pattern)] = True
        for pattern in starts:
            hit[base.rows_with(pattern, at_start=True)] = True
        if state.stale is not None:
            hit &= ~state.stale
        ids = set(base.ids[np.flatnonzero(hit)].tolist())
        ids.update(row.id for row in state.delta.values() if row is not None and (
            any(p in row.text for p in patterns) or any(row.text.startswith(p) for p in starts)))
        return sorted(ids)

    def version(self) -> int | None:
        """The version of the index with every change noted so far applied (a new one
        after each customer write); None while it is not built."""
        state = self.current()
        return None if state is None else state.version

    def tally(self, cond, columns: Sequence[str], *, pair: tuple[str, str] | None = None,
              sum_by: str | None = None) -> Tally | None:
        """Analytics' counts of the customers that meet ``cond``: per code of each of
        ``columns`` (choice columns the index holds for the filters and analytics'
        dimensions), per pair of codes of ``pair``, per month of creation, and the credit
        limits summed in all and per code of ``sum_by``. None while the index is not
        built or holds no such column (the caller then uses the SQL).

        Conditions of scope and archived state alone (the page before anyone filters)
        are answered from counts per owner and archived state taken once per build, less
        the rows saved since (``stale``). Others by counting the rows that meet them, or,
        when they are most of the scope's rows, from the same counts less the scope's
        rows that do not meet them (counting costs about the same per row either way)."""
        state = self.current()
        needed = {*columns, *(pair or ()), *([sum_by] if sum_by else [])}
        if state is None or not needed <= state.base.choices.keys() or not state.base.sums_fit:
            return None
        base, columns = state.base, tuple(columns)
        grouped, groups = base.grouped_counts(columns, pair, sum_by), base.groups_of(cond)
        less = None  # the rows of those groups not to count
        if not (cond.choices or cond.created_from or cond.created_before or cond.reviewed_before or cond.terms):
            if state.stale is not None:  # the rows saved since the build (counted from the delta)
                less = np.flatnonzero(state.stale)
                less = less[base._passing(cond, less)]
        else:
            if cond.terms:
                m, rows = base.matching(cond, state.stale)
                pick = rows if m is None else m
            else:
                pick = base._passing(cond, slice(None))
                if state.stale is not None:
                    pick &= ~state.stale
            if pick.dtype != bool or np.count_nonzero(pick) * 2 <= int(grouped.n[groups].sum()):
                got = _Counts(base, pick, None, 1, columns, pair, sum_by).summed([0])
                return self._tally(state, cond, needed, got)
            # Most of the scope's rows: take those that do not meet the rest (stale ones
            # included) off the scope's counts.
            scope = replace(cond, choices=(), created_from=None, created_before=None, reviewed_before=None, terms=())
            less = base._passing(scope, slice(None)) & ~pick
        got = grouped.summed(groups, None if less is None else _Counts(base, less, None, 1, columns, pair, sum_by))
        return self._tally(state, cond, needed, got)

    @staticmethod
    def _tally(state: _State, cond, needed: set[str], got: dict[str, Any]) -> Tally:
        """The ``Tally`` of ``got`` (``_Counts.summed``) with the rows saved since the build
        that meet ``cond``."""
        base = state.base
        extra = state.passing(cond)
        return Tally(values={c: list(base.choices[c].of) for c in needed},
                     first_month=base.first_month, extra=extra, **got)

    def relevance_page(self, cond, rules, cursor: dict | None, backwards: bool, limit: int):
        """``(total, keys)`` for a relevance-ordered search, as the SQL would give them:
        the keys ``{"r", "u", "i"}`` of up to ``limit`` rows after ``cursor`` in
        ascending order (``backwards``: before it, descending). None: not built yet."""
        if not cond.terms:
            return None
        state = self.current()
        if state is None:
            return None
        base = state.base
        m, rows = base.matching(cond, state.stale)
        ranks = [rule.rank for rule in rules]
        if m is not None and ranks == sorted(set(ranks)) and all(r < 3 for r in ranks):
            total = int(np.count_nonzero(m))
            rows, rank = base.dense_page(m, rules, cursor, backwards, limit)
        else:
            rows = np.flatnonzero(m) if rows is None else rows
            total = len(rows)
            rank = base.ranks(rules, rows)
            key = rank * base.n + base.place[rows]
            if cursor is not None:
                at = base.place_of(cursor["u"], cursor["i"], inclusive=not backwards)
                bound = cursor["r"] * base.n + at
                keep = key < bound if backwards else key >= bound
                rows, key, rank = rows[keep], key[keep], rank[keep]
            if len(key) > limit:
                pick = np.argpartition(-key if backwards else key, limit - 1)[:limit]
                rows, key, rank = rows[pick], key[pick], rank[pick]
        neg_updated = base.sorted_neg_updated[base.place[rows]]
        found = [(int(r), int(u), int(base.ids[i])) for r, u, i in zip(rank, neg_updated, rows)]
        for row in state.passing(cond):
            total += 1
            k = (row.rank(rules), -row.updated_us, row.id)
            if cursor is not None:
                c = (cursor["r"], cursor["u"], cursor["i"])
                if (k >= c) if backwards else (k <= c):
                    continue
            found.append(k)
        found.sort(reverse=backwards)
        return total, [{"r": r, "u": u, "i": i} for r, u, i in found[:limit]]


def index(db) -> SearchIndex:
    """The database's search index (made on first use)."""
    return db.service("search_index", SearchIndex)
