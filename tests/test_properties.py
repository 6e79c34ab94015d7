"""Property-based tests: any text is refused cleanly or stored exactly; random sequences
of writes agree with a simple in-memory model; the audit log replays to the current row."""
from __future__ import annotations

import json
import shutil
import tempfile
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple, precondition, rule

from lib.customers import customer as cs
from lib.accounts import users
from lib.core.db import Database
from lib.core.errors import (
    ConfirmationRequired,
    ConflictError,
    CustomerMasterError,
    DuplicateError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from lib.customers.fields import FIELDS, FIELDS_BY_NAME
from tests.conftest import TEST_PASSWORD, customer_values

TEXT_FIELDS = [f.name for f in FIELDS if f.kind in ("text", "longtext")]
ALL_UNICODE = st.characters(exclude_categories=())  # lone surrogates and control characters too
ANY_TEXT = st.one_of(
    st.text(),
    st.text(ALL_UNICODE),
    st.text(ALL_UNICODE, min_size=95, max_size=310),
    st.builds(lambda pad1, s, pad2: pad1 + s + pad2, st.sampled_from(["", " ", "\u3000", "\t", "\n"]),
              st.text(), st.sampled_from(["", " ", "\u00a0", "\r\n"])),
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])


def expected_text(field: str, value: str):
    """(accepted?, stored value) for free text typed into a text or longtext field."""
    f = FIELDS_BY_NAME[field]
    multiline = f.kind == "longtext"
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cs" or (cat == "Cc" and not (multiline and ch in "\n\t")):
            return False, None
    value = value.strip()
    if len(value) > f.max_length:
        return False, None
    if not value:
        return not f.required, None
    return True, value


@FAST
@given(field=st.sampled_from(TEXT_FIELDS), value=ANY_TEXT)
def test_any_text_is_refused_cleanly_or_stored_exactly(db, actors, field, value):
    accepted, stored = expected_text(field, value)
    manager = actors["manager"]
    try:
        rec = cs.create_customer(db, manager, customer_values(**{field: value}))
    except ValidationError as exc:
        assert not accepted, exc
        assert set(exc.fields) == {field}
    else:
        assert accepted
        assert rec[field] == stored
        assert cs.get_customer(db, manager, rec["id"])[field] == stored
    target = cs.create_customer(db, manager, customer_values(**{field: "原值"}))
    try:
        rec = cs.update_customer(db, manager, target["id"], {field: value}, target["version"])
    except ValidationError as exc:
        assert not accepted, exc
        assert cs.get_customer(db, manager, target["id"])[field] == "原值"
    else:
        assert accepted
        assert rec[field] == stored
        assert rec["version"] == (1 if stored == "原值" else 2)


@FAST
@given(field=st.sampled_from([f.name for f in FIELDS if f.kind not in ("text", "longtext")]), value=ANY_TEXT)
def test_any_text_in_other_fields_is_only_ever_a_validation_error(db, actors, field, value):
    manager = actors["manager"]
    target = cs.create_customer(db, manager, customer_values())
    for attempt in ("create", "update"):
        try:
            if attempt == "create":
                rec = cs.create_customer(db, manager, customer_values(**{field: value}), confirm={f"{field}.invalid",
                                                                                                f"{field}.checksum"})
            else:
                rec = cs.update_customer(db, manager, target["id"], {field: value}, target["version"],
                                         confirm={f"{field}.invalid", f"{field}.checksum"})
                target = rec
        except (ValidationError, DuplicateError) as exc:
            assert all(p.key.startswith("validation.") for p in getattr(exc, "problems", []))
        else:
            assert cs.get_customer(db, manager, rec["id"])[field] == rec[field]


# -- the model ---------------------------------------------------------------------------------
VALID_USCC = "91110108551385082Q"
CHECKSUM_USCC = "91350203M0001QAY9B"

# (typed, stored, warning code or None)
VALID = {
    "name": st.builds(lambda pad, s: (pad + s + pad, s, None), st.sampled_from(["", " "]),
                      st.sampled_from(["甲公司", "乙贸易有限公司", "王五", "Acme Ltd", "深圳市星河科技有限公司"])),
    "customer_type": st.sampled_from([("company", "company", None), ("企业", "company", None),
                                      ("individual", "individual", None), ("Individual", "individual", None)]),
    "uscc": st.sampled_from([(None, None, None), (VALID_USCC, VALID_USCC, None),
                             (VALID_USCC.lower(), VALID_USCC, None), (CHECKSUM_USCC, CHECKSUM_USCC, "uscc.checksum")]),
    "phone": st.sampled_from([(None, None, None), ("13800138000", "13800138000", None),
                              ("0755-12345678 转 12", "0755-12345678 转 12", None),
                              ("400-810-8888", "400-810-8888", None),
                              ("12012345678", "12012345678", "phone.invalid")]),
    "email": st.sampled_from([(None, None, None), ("a@example.com", "a@example.com", None),
                              ("Li.Lei@Example.COM", "Li.Lei@example.com", None)]),
    "contact_name": st.sampled_from([(None, None, None), ("张三", "张三", None), (" 李四 ", "李四", None)]),
    "contact_phone": st.sampled_from([(None, None, None), ("13900139000", "13900139000", None),
                                      ("12012345679", "12012345679", "contact_phone.invalid")]),
    "industry": st.sampled_from([(None, None, None), ("C", "C", None), ("金融业", "J", None), ("Mining", "B", None)]),
    "tier": st.sampled_from([(None, None, None), ("A", "A", None), ("重要客户", "B", None), ("prospect", "D", None)]),
    "size": st.sampled_from([(None, None, None), ("1-9", "1-9", None), ("1000 人以上", "1000+", None)]),
    "region": st.sampled_from([(None, None, None), ("440000", "440000", None), ("Beijing", "110000", None)]),
    "credit_limit": st.one_of(
        st.just((None, None, None)),
        st.decimals(min_value=0, max_value=10 ** 9, places=2).map(lambda d: (str(d), d, None)),
        st.decimals(min_value=0, max_value=10 ** 9, places=2).map(lambda d: (f"¥{d:,}", d, None)),
        st.just(("-0", Decimal("0.00"), None)),
    ),
    "access_level": st.sampled_from([("normal", "normal", None), ("仅限现款", "cash_only", None),
                                     ("On hold (no new business)", "on_hold", None)]),
    "status": st.sampled_from([("active", "active", None), ("潜在", "prospect", None), ("Blocked", "blocked", None)]),
    "owner": st.sampled_from([("manager", "manager", None), ("sales", "sales", None)]),
    "notes": st.sampled_from([(None, None, None), ("第一行\r\n第二行", "第一行\n第二行", None), ("\tx ", "x", None)]),
}
INVALID = {
    "name": st.sampled_from(["", "  ", "x" * 201, "a\x00b", None]),
    "customer_type": st.sampled_from(["robot", None]),
    "uscc": st.sampled_from(["123", "9111010855138508IQ"]),
    "phone": st.sampled_from(["abc", "123"]),
    "email": st.sampled_from(["bad", "a@"]),
    "tier": st.sampled_from(["Z"]),
    "credit_limit": st.sampled_from(["-1", "1.234", "abc"]),
    "access_level": st.sampled_from([None, "vip"]),
    "status": st.sampled_from([None, "deleted"]),
    "owner": st.sampled_from(["nobody", None]),
    "notes": st.sampled_from(["a\x00b", "x" * 2001]),
}
MODEL_FIELDS = list(VALID)


@st.composite
def new_customer(draw):
    names = draw(st.lists(st.sampled_from(MODEL_FIELDS), unique=True, max_size=6))
    typed, expected, warnings = {}, {}, set()
    for name in ["name", "customer_type", "status", "owner", *names]:
        raw, stored, warn = draw(VALID[name])
        typed[name], expected[name] = raw, stored
        if warn:
            warnings.add(warn)
    if expected["customer_type"] == "individual" and draw(st.booleans()):
        typed["size"] = expected["size"] = None  # mostly valid; sometimes a size error
    bad = draw(st.sampled_from(sorted(INVALID))) if draw(st.integers(0, 3)) == 0 else None
    if bad:
        typed[bad] = draw(INVALID[bad])
        if bad == "owner" and typed[bad] is None:
            typed[bad] = "nobody"  # an empty owner on create means the actor, not an error
    return typed, expected, warnings, bad


@st.composite
def changes(draw):
    names = draw(st.lists(st.sampled_from(MODEL_FIELDS), unique=True, min_size=1, max_size=4))
    typed, expected, warns = {}, {}, {}
    for name in names:
        raw, stored, warn = draw(VALID[name])
        typed[name], expected[name] = raw, stored
        if warn:
            warns[name] = warn
    bad = draw(st.sampled_from(sorted(INVALID))) if draw(st.integers(0, 3)) == 0 else None
    if bad:
        typed[bad] = draw(INVALID[bad])
        expected.pop(bad, None)
        warns.pop(bad, None)
    return typed, expected, warns, bad


def replay_audit(db, customer_id):
    """Fold the customer's audit entries; checks each entry's 'before' against the fold."""
    state = {f.name: None for f in FIELDS} | {"archived": False, "code": None}
    with db.read() as cur:
        entries = cur.execute("SELECT action, version, changes FROM audit_log WHERE customer_id = ? ORDER BY id",
                              [customer_id]).fetchall()
    for action, version, changes_json in entries:
        for key, (before, after) in json.loads(changes_json).items():
            assert state[key] == before, (action, version, key, state[key], before)
            state[key] = after
    return state, [v for _, v, _ in entries]


class CustomerModel(RuleBasedStateMachine):
    customers = Bundle("customers")

    def __init__(self):
        super().__init__()
        self.tmp = tempfile.mkdtemp(prefix="cm-model-")
        self.db = Database(Path(self.tmp) / "model.duckdb")
        for name, role in (("manager", "manager"), ("sales", "sales")):
            users.create_user(self.db, None, name, name, role, TEST_PASSWORD)
        self.actor = self.db.actor("manager", "manager")
        # id -> {"values": field -> stored value, "version": int, "archived": bool, "code": str}
        self.model: dict[int, dict] = {}

    def teardown(self):
        self.db.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------------
    def _uscc_taken(self, uscc, exclude=None):
        return uscc is not None and any(m["values"]["uscc"] == uscc for cid, m in self.model.items() if cid != exclude)

    def _count(self):
        with self.db.read() as cur:
            return cur.execute("SELECT count(*) FROM customers").fetchone()[0]

    # -- rules -----------------------------------------------------------------------------
    @initialize(target=customers, first=new_customer(), second=new_customer())
    def start_with_two_customers(self, first, second):
        ids = []
        for typed, expected, warnings, bad in (first, second):
            if bad or (expected["customer_type"] == "individual" and expected.get("size")):
                continue
            if expected.get("uscc") and self._uscc_taken(expected["uscc"]):
                continue
            ids.extend(self.create((typed, expected, warnings, None), confirm=True).values)
        return multiple(*ids)

    @rule(target=customers, data=new_customer(), confirm=st.booleans())
    def create(self, data, confirm):
        typed, expected, warnings, bad = data
        defaults = {"customer_type": "company", "status": "prospect", "access_level": "normal"}
        values = {f.name: None for f in FIELDS} | defaults | expected
        before = self._count()
        try:
            rec = cs.create_customer(self.db, self.actor, typed, confirm=warnings if confirm else ())
            event("create: stored")
        except ConfirmationRequired as exc:
            event("create: needs confirmation")
            assert not bad and not (values["customer_type"] == "individual" and values["size"])
            assert warnings and not confirm and exc.codes == warnings
        except ValidationError:
            event("create: invalid")
            assert bad or (values["customer_type"] == "individual" and values["size"])
        except DuplicateError:
            event("create: duplicate uscc")
            assert not bad and self._uscc_taken(values["uscc"])
            assert confirm or not warnings
        else:
            assert not bad and not (values["customer_type"] == "individual" and values["size"])
            assert confirm or not warnings
            assert not self._uscc_taken(values["uscc"])
            self.model[rec["id"]] = {"values": values, "version": 1, "archived": False, "code": rec["code"]}
            return multiple(rec["id"])
        assert self._count() == before
        return multiple()  # nothing created

    @rule(cid=customers, data=changes(), staleness=st.sampled_from([0, 0, 0, 0, -1, 1]), confirm=st.booleans())
    def update(self, cid, data, staleness, confirm):
        typed, expected, warns, bad = data
        m = self.model[cid]
        version = m["version"] + staleness
        note(f"update {cid} v{version} (model v{m['version']}) {typed}")
        after = m["values"] | expected
        # fields whose typed value differs from what is stored are checked for warnings again
        pending = {code for name, code in warns.items() if typed[name] != m["values"][name]}
        try:
            rec = cs.update_customer(self.db, self.actor, cid, typed, version, confirm=pending if confirm else ())
        except ConflictError as exc:
            event("update: conflict")
            assert staleness != 0
            assert exc.params["version"] == m["version"]
        except ConfirmationRequired as exc:
            event("update: needs confirmation")
            assert staleness == 0 and not m["archived"] and not bad
            assert pending and not confirm and exc.codes == pending
        except ValidationError:
            event("update: invalid")
            assert staleness == 0 and not m["archived"]
            assert bad or (after["customer_type"] == "individual" and after["size"])
        except DuplicateError:
            event("update: duplicate uscc")
            assert staleness == 0 and not m["archived"] and not bad
            assert self._uscc_taken(after["uscc"], exclude=cid)
            assert confirm or not pending
        except CustomerMasterError as exc:
            event("update: archived")
            assert exc.key == "error.archived" and m["archived"] and staleness == 0
        else:
            assert staleness == 0 and not m["archived"] and not bad
            assert not (after["customer_type"] == "individual" and after["size"])
            assert confirm or not pending
            changed = any(after[k] != m["values"][k] for k in after)
            event("update: stored" if changed else "update: no change")
            assert not (changed and after["uscc"] != m["values"]["uscc"] and self._uscc_taken(after["uscc"], cid))
            m["values"] = after
            if changed:
                m["version"] += 1
            assert rec["version"] == m["version"]

    @rule(cid=customers, archive=st.booleans(), staleness=st.sampled_from([0, 0, 0, 0, -1, 2]))
    def archive_or_restore(self, cid, archive, staleness):
        m = self.model[cid]
        version = m["version"] + staleness
        call = cs.archive_customer if archive else cs.restore_customer
        try:
            rec = call(self.db, self.actor, cid, version)
        except ConflictError:
            event("archive/restore: conflict")
            assert staleness != 0
        else:
            assert staleness == 0
            event("archive/restore: " + ("applied" if m["archived"] != archive else "no change"))
            if m["archived"] != archive:
                m["archived"] = archive
                m["version"] += 1
            assert (rec["archived"], rec["version"]) == (m["archived"], m["version"])

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def sales_cannot_touch_managers_customers(self, data):
        cid = data.draw(st.sampled_from(sorted(self.model)))
        m = self.model[cid]
        sales = self.db.actor("sales", "sales")
        try:
            cs.update_customer(self.db, sales, cid, {"credit_limit": "1"}, m["version"])
        except NotFound:
            assert m["values"]["owner"] != "sales"
        except PermissionDenied:
            assert m["values"]["owner"] == "sales" and m["values"]["credit_limit"] != Decimal("1")
        except CustomerMasterError as exc:
            assert m["archived"] and exc.key == "error.archived"
        else:
            assert m["values"]["credit_limit"] == Decimal("1.00")

    # -- invariant ---------------------------------------------------------------------------
    @invariant()
    def database_and_audit_log_match_model(self):
        assert self._count() == len(self.model)
        for cid, m in self.model.items():
            rec = cs.get_customer(self.db, self.actor, cid)
            assert {f.name: rec[f.name] for f in FIELDS} == m["values"]
            assert (rec["version"], rec["archived"], rec["code"]) == (m["version"], m["archived"], m["code"])
            # the audit log replays to the current row
            state, versions = replay_audit(self.db, cid)
            assert versions == list(range(1, rec["version"] + 1))
            assert (state["code"], state["archived"]) == (rec["code"], rec["archived"])
            assert {f.name: state[f.name] for f in FIELDS} == {f.name: cs.json_value(rec[f.name]) for f in FIELDS}


CustomerModel.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
test_customer_model = CustomerModel.TestCase


def test_replay_detects_a_tampered_log(db, actors, make_customer):
    """The replay check is not vacuous: a changed audit entry breaks it."""
    rec = make_customer(notes="a")
    cs.update_customer(db, actors["manager"], rec["id"], {"notes": "b"}, rec["version"])
    state, _ = replay_audit(db, rec["id"])
    assert state["notes"] == "b"
    with db.transaction() as cur:
        cur.execute("UPDATE audit_log SET changes = ? WHERE customer_id = ? AND action = 'update'",
                    [json.dumps({"notes": ["x", "b"]}), rec["id"]])
    with pytest.raises(AssertionError):
        replay_audit(db, rec["id"])


# -- e-mail: the shortcut for plain local parts agrees with email_validator ---------------------
_LOCAL_CHARS = st.sampled_from(list("abcXYZ019_+-.!#%&'*/=?^`{|}~\"@ 张é"))
_DOMAIN_CHARS = st.sampled_from(list("abcxyz019-.") + ["例", "中国", "é", "xn--", "com", "test", "localhost", ".."])


@settings(max_examples=3000, deadline=None)
@given(local=st.one_of(st.text(_LOCAL_CHARS, max_size=70), st.from_regex(r"[a-z0-9_+-]{1,70}", fullmatch=True)),
       domain=st.one_of(st.lists(_DOMAIN_CHARS, max_size=12).map("".join),
                        st.from_regex(r"[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63}){0,4}", fullmatch=True)))
def test_email_shortcut_agrees_with_email_validator(local, domain):
    from email_validator import EmailNotValidError, validate_email

    from lib.customers.kinds import _email_syntax

    text = f"{local}@{domain}"
    try:
        expected = validate_email(text, check_deliverability=False).normalized
    except (EmailNotValidError, ValueError, UnicodeError) as exc:
        expected = type(exc)
    try:
        got = _email_syntax(text)
    except (EmailNotValidError, ValueError, UnicodeError) as exc:
        got = type(exc)
    assert got == expected
