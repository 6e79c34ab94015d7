"""The rows migration 6 adds (frozen, like every migration's seeds: see m001): the
customer file's lists and permissions.

* ``access_level`` (客户权限级别): what business the company does with a customer, set
  by managers and admins (``customer.set_access_level``).
* ``followup_kind`` and ``need_state``: follow-up records and the state of a customer
  need (客户需求).
* ``file_kind``: what a customer's file (签约文件) is; ``upload_max_mb``: the largest
  file the server accepts, in MB (read at each upload).
"""

# (list, code, label_zh, label_en, ordinal, active)
REFERENCE_ITEMS = [
    ("access_level", "normal", "正常交易", "Normal trading", 0, True),
    ("access_level", "cash_only", "仅限现款", "Cash only (no credit)", 1, True),
    ("access_level", "on_hold", "暂停交易", "On hold (no new business)", 2, True),
    ("followup_kind", "call", "电话", "Call", 0, True),
    ("followup_kind", "visit", "拜访", "Visit", 1, True),
    ("followup_kind", "email", "邮件", "E-mail", 2, True),
    ("followup_kind", "meeting", "会议", "Meeting", 3, True),
    ("followup_kind", "care", "客户关怀", "Care activity", 4, True),
    ("followup_kind", "need", "客户需求", "Customer need", 5, True),
    ("followup_kind", "note", "备注", "Note", 6, True),
    ("need_state", "open", "待跟进", "Open", 0, True),
    ("need_state", "met", "已满足", "Met", 1, True),
    ("need_state", "dropped", "已放弃", "Dropped", 2, True),
    ("file_kind", "contract", "合同", "Contract", 0, True),
    ("file_kind", "license", "证照", "Licence", 1, True),
    ("file_kind", "quotation", "报价单", "Quotation", 2, True),
    ("file_kind", "other", "其他", "Other", 3, True),
]

# (key, value)
SETTINGS = [
    ("upload_max_mb", "20"),
    # The most customers one care campaign may reach (lib.customers.campaigns).
    ("campaign_max_customers", "5000"),
]

# Existing customers get the first access level.
DEFAULT_ACCESS_LEVEL = "normal"

# (role, action, scope, ordinal)
ADDED_PERMISSIONS = [
    ("admin", "customer.set_access_level", "all", 30),
    ("manager", "customer.set_access_level", "all", 30),
    # Follow-ups: authors and assignees change their own; these roles change anyone's.
    ("admin", "followup.edit_any", "all", 31),
    ("manager", "followup.edit_any", "all", 31),
    # Care campaigns (客户关怀): a follow-up for every customer of a search.
    ("admin", "campaign.run", "all", 32),
    ("manager", "campaign.run", "all", 32),
    # The home page (what to do today), every role's landing page.
    ("admin", "page.home", "all", 33),
    ("manager", "page.home", "all", 33),
    ("sales", "page.home", "all", 33),
    ("viewer", "page.home", "all", 33),
    # The customer file (客户档案), opened by its code.
    ("admin", "page.customer", "all", 34),
    ("manager", "page.customer", "all", 34),
    ("sales", "page.customer", "all", 34),
    ("viewer", "page.customer", "all", 34),
]
