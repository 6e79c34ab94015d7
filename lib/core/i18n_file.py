"""Messages of the customer file (客户档案): its parts (contacts, relationships,
follow-ups, files), the customer page and the home page. One section per part of the
file, so each grows on its own."""
from __future__ import annotations

FILE: dict[str, dict[str, str]] = {
    # -- contacts ---------------------------------------------------------------------
    "contact.is_primary": {"zh": "主联系人", "en": "Primary contact"},

    # -- relationships ----------------------------------------------------------------

    # -- follow-ups -------------------------------------------------------------------
    "validation.date_invalid": {"zh": "“{value}”不是有效日期，请按 2026-03-01 的格式填写。",
                                "en": "“{value}” is not a valid date; write it as 2026-03-01."},
    "validation.date_out_of_range": {"zh": "日期须在 {min} 至 {max} 之间。",
                                     "en": "The date must be between {min} and {max}."},
    "validation.need_state_only_for_needs": {"zh": "只有“客户需求”类的跟进有需求状态，请清空此项。",
                                             "en": "Only a customer need has a state; leave this empty."},
    "error.followup_not_yours": {
        "zh": "只有记录人、负责跟进人或经理可以修改客户 {code} 的这条跟进。",
        "en": "Only its author, its assignee or a manager may change this follow-up of customer {code}."},
    "error.campaign_too_large": {
        "zh": "当前搜索有 {count} 个客户，超过一次关怀活动的上限 {cap} 个。请缩小搜索范围后再试，未创建任何跟进。",
        "en": "The search has {count} customers, more than the {cap} one care campaign may reach. "
              "Narrow the search and try again; no follow-up was created."},

    # -- files ------------------------------------------------------------------------

    # -- the customer page ------------------------------------------------------------

    # -- the home page ----------------------------------------------------------------
}
