"""The customer, declared once.

This list drives validation (``lib.customers.validation``), the write path's columns,
the records read back and the audit log (``lib.customers.customer``), the search
haystack (``searchable``), the filter panel and search filters (``filter``), the
analytics dimensions (``dimension``), the entry form and the grid (``ui.widgets``,
``ui.grid``). What a *kind* of value does (cleaning, stored columns, storage type,
search contribution, widget, grid column) is one entry per kind in
``lib.customers.kinds`` and ``ui.kinds``. Adding a field means: a ``Field`` here, a
migration in ``lib.core.schema`` adding its columns, done; ``tests/test_drift.py``
round-trips every declared field through create, read, update, search and audit.

The functions below read the declaration when called (not at import) and take it as
an argument, so the same code serves other record kinds and the fields an administrator
adds at run time: ``declared()`` is ``FIELDS`` plus the open database's active custom
fields, installed by ``lib.customers.custom_fields`` (``install`` below).

Choices the domain notes leave open are documented on the field they concern:

* ``credit_limit``: yuan, a non-negative decimal with at most two places. A value with
  more than two decimal places is *rejected*, not rounded, so nothing the user typed is
  silently changed. Empty means "not set" (NULL), not zero. Largest value
  999,999,999,999.99 (DECIMAL(14,2)). It is written with the digits 0-9 and at most one
  decimal point; thousands separators, spaces and a leading ¥ / RMB / CNY are ignored.
  Exponent notation (``1e3``) and digits of other scripts, full-width ``１０００``
  included, are *refused* with a message saying how to write the amount, not
  converted: the user sees exactly the number that is stored.
* ``reviewed_at`` (system): stamped when the customer is created and whenever a person
  saves a change to the customer through the write path (form or grid); archiving does
  not count as a review. "Not reviewed for N days" filters on it.
* Time zone: timestamps are stored in UTC; "this month" and "per month" use
  Asia/Shanghai (UTC+8 all year: China has no daylight saving time).
* ``phone``: stored as typed (trimmed), plus its E.164 form and extension; duplicates
  match on E.164.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TypeVar

from lib.accounts import permissions as perm

# Groups of the entry form, in display order ("custom": the fields an administrator
# added, lib.customers.custom_fields).
GROUPS = ("basic", "contact", "classification", "credit", "notes", "custom")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # a key of lib.customers.kinds.KINDS: text, longtext, choice, phone, email, uscc, money, user, date,
    #            number, yesno, url
    label_zh: str
    label_en: str
    group: str
    required: bool = False
    max_length: int | None = None
    options: str | None = None  # reference list name, for kind == "choice"
    default: Any = None
    searchable: bool = False  # its value is part of the free-text search haystack
    filter: bool = False  # offered in the filter panel; search and analytics filter on it
    dimension: bool = False  # counted per value on the analytics page
    grid_editable: bool = True  # editable in the customers grid
    # "customer": a column of the customers table; "primary_contact": a column of the
    # customer's primary contact in the contacts table (same transaction).
    storage: str = "customer"
    column: str | None = None  # column name when it differs from ``name``
    # An action the actor needs, on top of create/update, to set or change this field.
    write_permission: str | None = None
    help_zh: str = ""
    help_en: str = ""
    # Other column headings that mean this field in an imported file (besides its name
    # and both labels; compared ignoring case, width, spaces and punctuation).
    synonyms: tuple[str, ...] = ()
    # Added by an administrator (lib.customers.custom_fields), not declared here.
    custom: bool = False
    # The roles that may set or change this field (None: whoever may create/update the
    # customer). Custom fields carry it as data; built-in fields use write_permission.
    edit_roles: tuple[str, ...] | None = None

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def help(self, lang: str) -> str:
        return self.help_zh if lang == "zh" else self.help_en

    @property
    def db_column(self) -> str:
        return self.column or self.name


FIELDS: tuple[Field, ...] = (
    Field("name", "text", "客户名称", "Customer name", "basic", required=True, max_length=200,
          searchable=True, help_zh="公司全称或个人姓名", help_en="Full company name or the person's name",
          synonyms=("名称", "公司名称", "企业名称", "单位名称", "客户全称", "公司全称", "客户", "Company", "Company name", "Name", "Customer")),
    Field("customer_type", "choice", "客户类型", "Customer type", "basic", required=True,
          options="customer_type", default="company", filter=True,
          synonyms=("类型", "客户类别", "Type")),
    Field("uscc", "uscc", "统一社会信用代码", "Unified social credit code", "basic", max_length=18,
          searchable=True, help_zh="18 位，可选", help_en="18 characters, optional",
          synonyms=("信用代码", "社会信用代码", "统一信用代码", "税号", "纳税人识别号", "USCC", "Credit code", "Tax ID")),
    Field("phone", "phone", "公司电话", "Company phone", "basic", max_length=40, searchable=True,
          help_zh="手机、座机（可带分机）或 400/800", help_en="Mobile, landline (extension allowed) or 400/800",
          synonyms=("电话", "联系电话", "座机", "办公电话", "Phone", "Tel", "Telephone")),
    Field("email", "email", "公司邮箱", "Company email", "basic", max_length=254, searchable=True,
          synonyms=("邮箱", "电子邮箱", "电子邮件", "Email", "E-mail")),
    Field("address", "text", "地址", "Address", "basic", max_length=300,
          synonyms=("公司地址", "注册地址", "通讯地址", "详细地址", "Address")),
    Field("contact_name", "text", "联系人", "Contact person", "contact", max_length=100,
          storage="primary_contact", column="name", searchable=True,
          synonyms=("联系人姓名", "姓名", "Contact", "Contact name")),
    Field("contact_title", "text", "职务", "Title", "contact", max_length=100,
          storage="primary_contact", column="title",
          synonyms=("职位", "Position", "Job title")),
    Field("contact_phone", "phone", "联系人电话", "Contact phone", "contact", max_length=40,
          storage="primary_contact", column="phone", searchable=True,
          synonyms=("联系人手机", "手机", "手机号", "Mobile")),
    Field("contact_email", "email", "联系人邮箱", "Contact email", "contact", max_length=254,
          storage="primary_contact", column="email", searchable=True,
          synonyms=("联系人电子邮箱",)),
    Field("industry", "choice", "行业", "Industry", "classification", options="industry", filter=True,
          dimension=True,
          synonyms=("所属行业", "行业分类")),
    Field("tier", "choice", "客户等级", "Tier", "classification", options="tier", filter=True, dimension=True,
          synonyms=("等级", "级别", "客户级别", "Level", "Grade")),
    Field("size", "choice", "公司规模", "Company size", "classification", options="size", filter=True,
          dimension=True, help_zh="个人客户不填", help_en="Leave empty for individuals",
          synonyms=("规模", "企业规模", "人员规模", "Size")),
    Field("region", "choice", "地区", "Region", "classification", options="region", filter=True,
          dimension=True,
          synonyms=("区域", "省份", "所在地区", "Area", "Province")),
    Field("credit_limit", "money", "信用额度", "Credit limit", "credit",
          write_permission=perm.CUSTOMER_SET_CREDIT,
          help_zh="元，最多两位小数；仅经理和管理员可设置",
          help_en="Yuan, at most two decimals; set by managers and admins only",
          synonyms=("额度", "授信额度", "Credit")),
    Field("access_level", "choice", "客户权限级别", "Access level", "credit", required=True,
          options="access_level", default="normal", filter=True, dimension=True,
          write_permission=perm.CUSTOMER_SET_ACCESS_LEVEL,
          help_zh="正常交易、仅限现款或暂停交易；仅经理和管理员可设置",
          help_en="Normal trading, cash only or on hold; set by managers and admins only",
          synonyms=("权限级别", "交易级别")),
    Field("status", "choice", "状态", "Status", "credit", required=True, options="status",
          default="prospect", filter=True,
          synonyms=("客户状态",)),
    Field("owner", "user", "负责人", "Owner", "credit", write_permission=perm.CUSTOMER_SET_OWNER,
          filter=True, dimension=True,
          help_zh="默认为录入人", help_en="Defaults to whoever enters the customer",
          synonyms=("销售", "业务员", "客户经理", "跟进人", "Salesperson", "Sales rep", "Account manager")),
    Field("notes", "longtext", "备注", "Notes", "notes", max_length=2000,
          synonyms=("说明", "备注信息", "Remarks", "Remark", "Comment", "Comments")),
)

# -- the customer's parts (lib.customers.parts): each kind of record declared the same way.
# A field that is also one of the customer's fields above (the primary contact's) has
# the same name, so a problem reads the same wherever the value is typed.
CONTACT_FIELDS: tuple[Field, ...] = (
    Field("contact_name", "text", "联系人", "Contact person", "contact", required=True, max_length=100,
          storage="contact", column="name", searchable=True,
          synonyms=("姓名", "联系人姓名", "Name", "Contact", "Contact name")),
    Field("contact_title", "text", "职务", "Title", "contact", max_length=100, storage="contact", column="title",
          synonyms=("职位", "Position", "Job title")),
    Field("contact_department", "text", "部门", "Department", "contact", max_length=100, storage="contact",
          column="department",
          synonyms=("所在部门", "Dept")),
    Field("contact_phone", "phone", "联系人电话", "Contact phone", "contact", max_length=40, storage="contact",
          column="phone", searchable=True,
          synonyms=("电话", "座机", "办公电话", "Phone", "Tel", "Telephone")),
    Field("contact_mobile", "phone", "手机", "Mobile", "contact", max_length=40, storage="contact",
          column="mobile", searchable=True,
          synonyms=("手机号", "移动电话", "Mobile phone", "Cell")),
    Field("contact_email", "email", "联系人邮箱", "Contact email", "contact", max_length=254, storage="contact",
          column="email", searchable=True,
          synonyms=("邮箱", "电子邮箱", "Email", "E-mail")),
    Field("contact_notes", "longtext", "联系人备注", "Notes on the contact", "contact", max_length=500,
          storage="contact", column="notes",
          synonyms=("备注", "Notes", "Remarks")),
)

# A customer's files (签约文件, lib.customers.files): only what the user may edit. The
# file's name, type, size and SHA-256 are set by the system from the uploaded bytes.
# (``signed_on`` waits for a date kind of field; its column exists.)
FILE_FIELDS: tuple[Field, ...] = (
    Field("file_title", "text", "文件标题", "Title", "files", max_length=200, storage="file", column="title",
          help_zh="可选；不填则显示文件名", help_en="Optional; the file name shows when empty"),
    Field("file_kind", "choice", "文件类型", "Document kind", "files", required=True, options="file_kind",
          default="contract", storage="file", column="kind"),
)

# A relationship between two customers (lib.customers.relationships): the row (from A,
# to B, kind K) reads "B is A's K". The other customer (``to_customer``) is set by the
# service, not typed. Each kind read from the other side, declared once next to the kind:
RELATIONSHIP_FIELDS: tuple[Field, ...] = (
    Field("relationship_kind", "choice", "关系", "Relationship", "relationship", required=True,
          options="relationship_kind", storage="relationship", column="kind"),
    Field("relationship_note", "text", "关系备注", "Note on the relationship", "relationship", max_length=500,
          storage="relationship", column="note"),
)
# relationship_kind -> the same link read from the other customer's side ("B is A's
# supplier" is "A is B's customer"). Every code of the list has an entry.
RELATIONSHIP_INVERSE: dict[str, str] = {
    "supplier": "customer", "customer": "supplier",
    "parent": "subsidiary", "subsidiary": "parent",
    "partner": "partner",
}

# Follow-ups (跟进 / 沟通记录, lib.customers.followups): what happened, when, and what to do
# next by when and by whom. ``occurred_on`` defaults to today (Asia/Shanghai) and the
# assignee to the author when a next action or due date is given (the service fills
# both); only a need (kind "need") has a state, which starts "open".
FOLLOWUP_FIELDS: tuple[Field, ...] = (
    Field("followup_kind", "choice", "类型", "Kind", "followup", required=True, options="followup_kind",
          storage="followup", column="kind"),
    Field("followup_occurred_on", "date", "日期", "Date", "followup", required=True, storage="followup",
          column="occurred_on", help_zh="默认为今天", help_en="Defaults to today"),
    Field("followup_summary", "longtext", "内容摘要", "Summary", "followup", required=True, max_length=2000,
          storage="followup", column="summary"),
    Field("followup_next_action", "text", "下一步行动", "Next action", "followup", max_length=500,
          storage="followup", column="next_action"),
    Field("followup_due_on", "date", "截止日期", "Due date", "followup", storage="followup", column="due_on"),
    Field("followup_assignee", "user", "负责跟进人", "Assignee", "followup", storage="followup", column="assignee",
          help_zh="填写下一步或截止日期时默认为记录人", help_en="Defaults to the author when a next action or due date is given"),
    Field("followup_need_state", "choice", "需求状态", "Need state", "followup", options="need_state",
          storage="followup", column="need_state",
          help_zh="仅客户需求：待跟进、已满足或已放弃", help_en="Customer needs only: open, met or dropped"),
)

# Every declaration, for labels and the drift tests (field names are unique across them,
# except a part's field that *is* the customer's field of that name).
DECLARATIONS: dict[str, tuple[Field, ...]] = {"customer": FIELDS, "contact": CONTACT_FIELDS,
                                              "relationship": RELATIONSHIP_FIELDS, "file": FILE_FIELDS,
                                              "followup": FOLLOWUP_FIELDS}

# As declared at import; code that must follow a changed declaration calls the
# functions below instead.
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

# The customer's declaration as it stands now: the built-in fields above, then the
# active custom fields of the open database (``install``, called by
# lib.customers.custom_fields when the database opens and after every change of its
# custom fields). Retired custom fields are kept apart: hidden from every channel, but
# their labels still read well in history.
_current: tuple[Field, ...] = FIELDS
_retired: dict[str, Field] = {}


def install(custom: Sequence[Field] = (), retired: Sequence[Field] = ()) -> None:
    """Make the customer's declaration the built-in fields plus ``custom`` (in order).
    One tuple replaces the other in one assignment, so a reader sees the old or the new
    declaration, never a mixture."""
    global _current, _retired
    for f in (*custom, *retired):
        if not f.custom or f.name in FIELDS_BY_NAME:
            raise AssertionError(f"not a custom field: {f.name}")
    _retired = {f.name: f for f in retired}
    _current = FIELDS + tuple(custom)


def declared(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    """``fields``, or the customer's declaration as it stands now (built-in and active
    custom fields)."""
    return _current if fields is None else tuple(fields)


_T = TypeVar("_T")


def per_declaration(fn: Callable[..., _T]) -> Callable[..., _T]:
    """Cache ``fn(decl, *args)``, something derived from a declaration (a tuple of
    fields, as ``declared`` returns it), by the declaration's identity: the write path
    asks for every record, and hashing a declaration would hash every field each time.
    A changed declaration is a new tuple, so a new key; the cache keeps the tuple it was
    derived from, so an identity is never mistaken for another's."""
    cache: dict[tuple, tuple[tuple, _T]] = {}

    @functools.wraps(fn)
    def cached(decl: tuple[Field, ...], *args) -> _T:
        key = (id(decl), *args)
        hit = cache.get(key)
        if hit is not None and hit[0] is decl:
            return hit[1]
        value = fn(decl, *args)
        if len(cache) >= 64:  # callers passing lists make a new tuple each time
            cache.clear()
        cache[key] = (decl, value)
        return value

    return cached


@per_declaration
def named(decl: tuple[Field, ...]) -> dict[str, Field]:
    """A declaration's fields by name, derived once per declaration (shared: read only)."""
    return {f.name: f for f in decl}


def by_name(name: str, fields: Sequence[Field] | None = None) -> Field | None:
    return next((f for f in declared(fields) if f.name == name), None)


def stored_in(storage: str, fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    """Fields kept in one table ("customer", "primary_contact")."""
    return tuple(f for f in declared(fields) if f.storage == storage)


def filter_fields(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    return tuple(f for f in declared(fields) if f.filter)


def dimension_fields(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    return tuple(f for f in declared(fields) if f.dimension)


def searchable_fields(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    return tuple(f for f in declared(fields) if f.searchable)


@dataclass(frozen=True)
class SystemColumn:
    """A column the system sets; shown read-only in grid and export."""

    name: str
    kind: str  # code | timestamp | user | int | bool
    label_zh: str
    label_en: str
    synonyms: tuple[str, ...] = ()  # as Field.synonyms (the code: an import's match key)

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


SYSTEM_COLUMNS: tuple[SystemColumn, ...] = (
    SystemColumn("code", "code", "客户编号", "Customer code", synonyms=("编号", "客户代码", "客户编码", "Code")),
    SystemColumn("created_at", "timestamp", "创建时间", "Created"),
    SystemColumn("updated_at", "timestamp", "更新时间", "Updated"),
    SystemColumn("updated_by", "user", "更新人", "Updated by"),
    SystemColumn("reviewed_at", "timestamp", "最近复核", "Last reviewed"),
    SystemColumn("archived", "bool", "已归档", "Archived"),
)
SYSTEM_BY_NAME = {c.name: c for c in SYSTEM_COLUMNS}


def form_fields(group: str | None = None, fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    return tuple(f for f in declared(fields) if group is None or f.group == group)


def grid_fields(fields: Sequence[Field] | None = None) -> tuple[Field, ...]:
    return declared(fields)


def label(name: str, lang: str) -> str:
    """Label of a field (of the customer or one of its parts) or system column by name."""
    f = (by_name(name) or _retired.get(name)
         or next((f for d in DECLARATIONS.values() for f in d if f.name == name), None))
    if f is not None:
        return f.label(lang)
    if name in SYSTEM_BY_NAME:
        return SYSTEM_BY_NAME[name].label(lang)
    return name
