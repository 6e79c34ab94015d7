"""Messages of the administration page's reference lists section (zh / en): the lists,
the table, the actions and every refusal of ``lib.customers.reference_admin``."""

ADMIN_LISTS: dict[str, dict[str, str]] = {
    "lists.tab": {"zh": "基础数据", "en": "Reference lists"},
    "lists.intro": {
        "zh": "停用的值仍保留在旧记录、筛选和统计中，但不能再用于新录入。代码创建后不可更改。",
        "en": "A retired value stays on old records, in filters and in analytics, but cannot be chosen for new "
              "input. A code cannot be changed once created.",
    },
    "lists.choose": {"zh": "列表", "en": "List"},
    # The lists by name (lib.customers.reference_admin.MANAGED_LISTS).
    "lists.name.industry": {"zh": "行业", "en": "Industries"},
    "lists.name.tier": {"zh": "客户等级", "en": "Tiers"},
    "lists.name.size": {"zh": "企业规模", "en": "Sizes"},
    "lists.name.status": {"zh": "客户状态", "en": "Statuses"},
    "lists.name.region": {"zh": "地区", "en": "Regions"},
    "lists.name.access_level": {"zh": "客户权限", "en": "Access levels"},
    "lists.name.relationship_kind": {"zh": "客户关系类型", "en": "Relationship kinds"},
    "lists.name.followup_kind": {"zh": "跟进类型", "en": "Follow-up kinds"},
    "lists.col_code": {"zh": "代码", "en": "Code"},
    "lists.col_zh": {"zh": "中文名称", "en": "Chinese label"},
    "lists.col_en": {"zh": "英文名称", "en": "English label"},
    "lists.col_active": {"zh": "启用", "en": "Active"},
    "lists.caption": {"zh": "共 {n} 项，其中 {active} 项启用。", "en": "{n} items, {active} of them active."},
    "lists.retired_mark": {"zh": "{label}（已停用）", "en": "{label} (retired)"},
    # -- one item's actions ----------------------------------------------------------------
    "lists.item": {"zh": "要修改的项", "en": "Item to change"},
    "lists.rename_title": {"zh": "修改名称", "en": "Rename"},
    "lists.rename": {"zh": "保存名称", "en": "Save the labels"},
    "lists.move_up": {"zh": "上移", "en": "Move up"},
    "lists.move_down": {"zh": "下移", "en": "Move down"},
    "lists.retire": {"zh": "停用", "en": "Retire"},
    "lists.restore": {"zh": "重新启用", "en": "Bring back"},
    "lists.add_title": {"zh": "新增一项", "en": "Add an item"},
    "lists.add": {"zh": "新增", "en": "Add"},
    "lists.code_help": {
        "zh": "字母、数字或 _ - +，最多 40 个字符；保存后不可更改。",
        "en": "Letters, digits or _ - +, at most 40 characters; it cannot be changed later.",
    },
    # -- what happened -------------------------------------------------------------------
    "lists.done_add": {"zh": "已新增 {code}。", "en": "{code} was added."},
    "lists.done_rename": {"zh": "已修改 {code} 的名称。", "en": "The labels of {code} were changed."},
    "lists.done_move": {"zh": "已移动 {code}。", "en": "{code} was moved."},
    "lists.done_retire": {"zh": "已停用 {code}。", "en": "{code} was retired."},
    "lists.done_restore": {"zh": "已重新启用 {code}。", "en": "{code} was brought back."},
    "lists.nothing_changed": {"zh": "没有需要保存的更改。", "en": "Nothing to change."},
    # -- refusals (lib.customers.reference_admin) ---------------------------------------------
    "lists.unknown_list": {"zh": "没有名为 {list} 的可管理列表。", "en": "There is no managed list called {list}."},
    "lists.code_required": {"zh": "请填写代码。", "en": "Please enter a code."},
    "lists.bad_code": {
        "zh": "代码“{code}”无效：只能使用字母、数字或 _ - +，以字母或数字开头，最多 40 个字符。",
        "en": "The code “{code}” is not valid: use letters, digits or _ - +, starting with a letter or digit, "
              "at most 40 characters.",
    },
    "lists.duplicate_code": {"zh": "代码 {code} 已存在于该列表中。", "en": "The code {code} is already in this list."},
    "lists.duplicate_label": {
        "zh": "名称“{label}”已被 {code} 使用。",
        "en": "The label “{label}” is already used by {code}.",
    },
    "lists.label_required": {"zh": "请填写名称。", "en": "Please enter a label."},
    "lists.label_too_long": {
        "zh": "名称最多 {max} 个字符（当前 {n} 个）。",
        "en": "A label has at most {max} characters ({n} given).",
    },
    "lists.not_found": {"zh": "列表中没有代码 {code}。", "en": "The list has no code {code}."},
    "lists.last_active": {
        "zh": "{code} 是该列表中最后一个启用的值，不能停用。",
        "en": "{code} is the last active value of this list and cannot be retired.",
    },
    "lists.bad_step": {"zh": "只能上移或下移一位。", "en": "An item moves one place up or down."},
    "lists.care_retired": {
        "zh": "跟进类型“关怀”已停用，无法创建关怀活动。请管理员在基础数据中重新启用。",
        "en": "The follow-up kind “care” is retired, so no care campaign can be created. An administrator can "
              "bring it back under Reference lists.",
    },
}
