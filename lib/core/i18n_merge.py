"""Messages of duplicates and merge (zh / en): the finder's page, the merge, its refusals,
its history entry, and the warning after an edit that makes a customer look like another."""

MERGE: dict[str, dict[str, str]] = {
    # -- refusals (lib.customers.merge) ---------------------------------------------------
    "error.merge_into_itself": {
        "zh": "不能把客户合并到它自己。",
        "en": "A customer cannot be merged into itself.",
    },
    "error.merge_too_few": {
        "zh": "请至少选择两个客户进行合并。",
        "en": "Choose at least two customers to merge.",
    },
    "error.merge_target_merged": {
        "zh": "客户 {code} 已被合并到其他客户，不能作为保留的客户。",
        "en": "Customer {code} has been merged into another; it cannot be the one kept.",
    },
    "error.merge_target_archived": {
        "zh": "客户 {code} 已归档，不能作为保留的客户。请先恢复，或选择其他客户保留。",
        "en": "Customer {code} is archived and cannot be the one kept. Restore it first or keep another.",
    },
    "validation.merge_source": {
        "zh": "请从要合并的客户中选择保留哪个值。",
        "en": "Choose the value of one of the customers being merged.",
    },
    "validation.merge_one_contact": {
        "zh": "联系人各项须取自同一个客户（该客户的主联系人成为主联系人）。",
        "en": "Take every contact field from the same customer (its primary contact becomes the primary).",
    },
    # -- the history entry and the customer page ------------------------------------------
    "cf.hist.action.merge": {"zh": "合并", "en": "merged"},
    "cf.hist.col.merged": {"zh": "并入的客户", "en": "Customers merged in"},
    "cf.hist.col.moved": {"zh": "转移的记录", "en": "Records moved"},
    "cf.hist.merged_entry": {
        "zh": "原属客户 {code}（已合并）",
        "en": "From customer {code} (merged)",
    },
    "cf.merged_here": {
        "zh": "客户 {old} 已合并到本客户 {code}。",
        "en": "Customer {old} was merged into this customer, {code}.",
    },
    # -- the duplicates page ---------------------------------------------------------------
    "nav.duplicates": {"zh": "重复客户", "en": "Duplicates"},
    "dp.intro": {
        "zh": "可能重复的客户分组：相同统一社会信用代码、相同电话（公司或联系人），或名称相同、同音、非常相似。可信度高的在前。",
        "en": "Groups of customers that may be one: the same USCC, the same phone (company or contact), or names "
              "that are the same, sound the same or are very similar. The most certain come first.",
    },
    "dp.own_only": {"zh": "仅显示您负责的客户之间的重复。", "en": "Only duplicates among your own customers are shown."},
    "dp.preparing": {
        "zh": "正在为 {n} 个客户准备查重数据（首次使用或大量导入后），请稍候再查看。",
        "en": "Preparing the duplicate check for {n} customers (first use or after a large load); check again shortly.",
    },
    "dp.refreshing": {
        "zh": "以下为 {at} 的查重结果；客户资料已有变化，正在重新查找。",
        "en": "Groups as found at {at}; customers changed since, and they are being found again.",
    },
    "dp.check_again": {"zh": "重新查看", "en": "Check again"},
    "dp.none": {"zh": "没有发现可能重复的客户。", "en": "No likely duplicates found."},
    "dp.group": {"zh": "{n} 个客户 · 可信度 {confidence}%", "en": "{n} customers · confidence {confidence}%"},
    "dp.reason.uscc": {"zh": "统一社会信用代码相同", "en": "same USCC"},
    "dp.reason.phone": {"zh": "电话相同", "en": "same phone"},
    "dp.reason.name": {"zh": "名称相同", "en": "same name"},
    "dp.reason.pinyin": {"zh": "名称同音", "en": "name sounds the same"},
    "dp.reason.similar_name": {"zh": "名称非常相似", "en": "very similar name"},
    "dp.open_merge": {"zh": "合并…", "en": "Merge…"},
    "dp.merge_title": {"zh": "合并客户", "en": "Merge customers"},
    "dp.pick": {"zh": "要合并的客户", "en": "Customers to merge"},
    "dp.survivor": {"zh": "保留的客户（其余客户归档并指向它）", "en": "Customer to keep (the others are archived and point to it)"},
    "dp.keep_values": {
        "zh": "以下字段各客户的值不同，请选择保留哪一个：",
        "en": "These fields differ; choose the value to keep:",
    },
    "dp.same_values": {"zh": "所选客户的各字段值相同。", "en": "The chosen customers have the same values."},
    "dp.value_of": {"zh": "{code}：{value}", "en": "{code}: {value}"},
    "dp.moves": {
        "zh": "联系人、客户关系、跟进记录和签约文件将转移到保留的客户，历史记录一并可见。",
        "en": "Contacts, relationships, follow-ups and files move to the customer kept; their history stays visible there.",
    },
    "dp.confirm": {"zh": "我已核对，确认合并（不可撤销）", "en": "I checked; merge them (cannot be undone)"},
    "dp.merge": {"zh": "合并", "en": "Merge"},
    "dp.cancel": {"zh": "取消", "en": "Cancel"},
    "dp.need_two": {"zh": "请至少选择两个客户。", "en": "Choose at least two customers."},
    "dp.merged": {
        "zh": "已将 {n} 个客户合并到 {code}。",
        "en": "Merged {n} customer(s) into {code}.",
    },
    "dp.open_survivor": {"zh": "打开 {code} {name}", "en": "Open {code} {name}"},
    "dp.stale": {
        "zh": "所选客户在您打开后已被修改，已重新读取，请重新核对后再合并。",
        "en": "A chosen customer changed since you opened it; it was read again — check and merge again.",
    },
    # -- after an edit (grid, customer page) ------------------------------------------------
    "dupwarn.title": {
        "zh": "已保存。{code} 现在看起来与 {n} 个已有客户相似（仅提示）：",
        "en": "Saved. {code} now looks like {n} existing customer(s) (a warning only):",
    },
    "dupwarn.item": {"zh": "{code} {name}（负责人：{owner}）", "en": "{code} {name} (owner: {owner})"},
    "dupwarn.reasons": {"zh": "原因：{reasons}", "en": "why: {reasons}"},
}
