"""What importing customers from a file says (lib.customers.importing and its page), in
both languages."""

IMPORT: dict[str, dict[str, str]] = {
    # -- reading the file
    "import.empty_file": {"zh": "文件是空的。", "en": "The file is empty."},
    "import.unreadable_encoding": {
        "zh": "无法识别文件的文字编码。请另存为 UTF-8 或 Excel 文件后再上传。",
        "en": "The file's text encoding could not be recognised. Save it as UTF-8 or as an Excel file and upload it again.",
    },
    "import.unreadable_csv": {
        "zh": "无法按 CSV 读取该文件。请检查文件内容或另存为 Excel 文件。",
        "en": "The file could not be read as CSV. Check its content or save it as an Excel file.",
    },
    "import.unreadable_xlsx": {
        "zh": "无法读取该 Excel 文件（仅支持 .xlsx）。",
        "en": "The Excel file could not be read (only .xlsx is supported).",
    },
    # -- the mapping
    "import.mapping_width": {"zh": "列的对应关系与文件不一致，请重新上传。",
                             "en": "The column mapping does not fit the file; upload it again."},
    "import.mapping_unknown": {"zh": "未知字段：{field}。", "en": "Unknown field: {field}."},
    "import.mapping_twice": {
        "zh": "“{first}”和“{second}”两列都对应到同一字段，请只保留一列。",
        "en": "The columns “{first}” and “{second}” both map to the same field; keep one.",
    },
    "import.unknown_match_by": {"zh": "未知的匹配方式：{value}。", "en": "Unknown way to match customers: {value}."},
    "import.unknown_holds": {"zh": "未知的文件内容：{value}。", "en": "Unknown kind of file: {value}."},
    # -- rows
    "import.code_required": {
        "zh": "请填写客户编号（联系人添加到该编号的客户）。",
        "en": "Give the customer code (the contact is added to that customer).",
    },
    "import.twice_in_file": {"zh": "与第 {row} 行重复。", "en": "Same as row {row}."},
    "import.no_such_code": {
        "zh": "没有编号为 {code} 的客户（新客户请留空编号，编号由系统生成）。",
        "en": "No customer has the code {code} (leave the code empty for a new customer; the system gives codes).",
    },
    "import.may_not_change": {"zh": "您没有权限修改客户 {code}。", "en": "You may not change customer {code}."},
    "import.changed_since_dry_run": {
        "zh": "预检之后，文件涉及的部分客户已被他人修改，未导入任何数据。请重新预检。",
        "en": "Some customers in the file were changed by someone else after the dry run; nothing was imported. Run the dry run again.",
    },
    "import.warning": {"zh": "提示", "en": "Warning"},
    "import.error": {"zh": "错误", "en": "Error"},
    # -- the command line
    "import.cli_unmapped": {"zh": "未导入的列：{columns}", "en": "Columns not imported: {columns}"},
    "import.cli_counts": {
        "zh": "共 {rows} 行：新建 {new}，更新 {updated}，无变化 {unchanged}，有错误 {failing}。",
        "en": "{rows} rows: {new} new, {updated} updated, {unchanged} unchanged, {failing} failing.",
    },
    "import.cli_nothing_written": {
        "zh": "未写入任何数据：请更正以上错误（或用 --confirm-warnings 确认提示）后重试。",
        "en": "Nothing was written: correct the errors above (or accept the warnings with --confirm-warnings) and try again.",
    },
    "import.cli_dry_run_clean": {"zh": "预检通过。加上 --apply 即可导入。", "en": "The dry run passed. Add --apply to import."},
    "import.cli_written": {"zh": "已导入。", "en": "Imported."},
    # -- the page
    "nav.import_customers": {"zh": "导入客户", "en": "Import"},
    "import.intro": {
        "zh": "上传 Excel（.xlsx）或 CSV 文件（UTF-8 或 GBK 均可）。先预检：每一行都按录入表单的规则检查，不写入任何数据；全部通过后再导入，整个文件一次导入，要么全部成功，要么全部不写入。",
        "en": "Upload an Excel (.xlsx) or CSV file (UTF-8 or GBK). First a dry run checks every row by the entry form's rules and writes nothing; once every row passes, the whole file is imported at once — all of it or nothing.",
    },
    "import.file": {"zh": "客户文件", "en": "Customer file"},
    "import.sheet": {"zh": "工作表", "en": "Sheet"},
    "import.read_as": {"zh": "第 {header} 行为表头，{rows} 行数据{encoding}。",
                       "en": "Header in row {header}, {rows} data rows{encoding}."},
    "import.encoding": {"zh": "，文字编码 {encoding}", "en": ", encoding {encoding}"},
    "import.mapping": {"zh": "列对应", "en": "Columns"},
    "import.mapping_help": {
        "zh": "每一列导入到哪个字段（已按列名自动建议，可修改；您的选择会记住，下次导入时沿用）。",
        "en": "Which field each column fills (suggested from the column names; change as needed — your choices are remembered for your next import).",
    },
    "import.not_imported": {"zh": "（不导入）", "en": "(not imported)"},
    "import.code_column": {"zh": "客户编号（用于匹配已有客户）", "en": "Customer code (matches existing customers)"},
    "import.example": {"zh": "例如：{value}", "en": "e.g. {value}"},
    "import.unmapped": {"zh": "不导入的列：{columns}", "en": "Columns not imported: {columns}"},
    "import.holds": {"zh": "文件内容", "en": "The file holds"},
    "import.holds.customers": {"zh": "客户（新建或更新）", "en": "Customers (new or updated)"},
    "import.holds.contacts": {"zh": "联系人（按客户编号添加到已有客户）", "en": "Contacts (added to existing customers by their code)"},
    "import.match_by": {"zh": "已有客户按什么匹配", "en": "Match existing customers by"},
    "import.match.code": {"zh": "客户编号", "en": "Customer code"},
    "import.match.uscc": {"zh": "统一社会信用代码", "en": "USCC"},
    "import.match_help": {
        "zh": "匹配到的行更新该客户（空单元格保留原值），其余行新建客户。",
        "en": "A matched row updates that customer (empty cells keep the stored value); other rows create customers.",
    },
    "import.dry_run": {"zh": "预检", "en": "Dry run"},
    "import.checking": {"zh": "正在检查第 {done} / {total} 行…", "en": "Checking row {done} of {total}…"},
    "import.writing": {"zh": "正在导入第 {done} / {total} 行…", "en": "Importing row {done} of {total}…"},
    "import.count.rows": {"zh": "行数", "en": "Rows"},
    "import.count.new": {"zh": "新建", "en": "New"},
    "import.count.updated": {"zh": "更新", "en": "Updated"},
    "import.count.unchanged": {"zh": "无变化", "en": "Unchanged"},
    "import.count.failing": {"zh": "有错误", "en": "Failing"},
    "import.problems": {"zh": "问题（{count}）", "en": "Problems ({count})"},
    "import.col.row": {"zh": "行", "en": "Row"},
    "import.col.column": {"zh": "列", "en": "Column"},
    "import.col.value": {"zh": "值", "en": "Value"},
    "import.col.message": {"zh": "说明", "en": "Message"},
    "import.col.warning": {"zh": "类型", "en": "Kind"},
    "import.download_problems": {"zh": "下载问题清单（CSV）", "en": "Download the problems (CSV)"},
    "import.fix_first": {
        "zh": "有 {failing} 行有错误。请在文件中更正后重新上传，再预检。",
        "en": "{failing} rows have errors. Correct them in the file, upload it again and run the dry run again.",
    },
    "import.accept_warning": {"zh": "确认 {rows} 行的提示：{example}", "en": "Accept the warning for {rows} rows: {example}"},
    "import.lookalikes": {"zh": "疑似重复（{count}）", "en": "Possible duplicates ({count})"},
    "import.lookalikes_help": {
        "zh": "这些新行与已有客户或文件中的其他行相似。导入前请核对；确认无误也可以照常导入。",
        "en": "These new rows look like existing customers or like other rows of the file. Check them before importing; you may import anyway.",
    },
    "import.reason.phone": {"zh": "电话相同", "en": "Same phone"},
    "import.reason.name": {"zh": "名称相同", "en": "Same name"},
    "import.reason.similar_name": {"zh": "名称相近", "en": "Similar name"},
    "import.col.reason": {"zh": "原因", "en": "Reason"},
    "import.col.existing": {"zh": "已有客户", "en": "Existing customer"},
    "import.col.other_row": {"zh": "文件中的行", "en": "Row of the file"},
    "import.ready": {"zh": "预检通过：可以导入。", "en": "The dry run passed: ready to import."},
    "import.run": {"zh": "导入 {rows} 行", "en": "Import {rows} rows"},
    "import.done": {
        "zh": "已导入：新建 {new} 个客户，更新 {updated} 个，{unchanged} 个无变化。",
        "en": "Imported: {new} customers created, {updated} updated, {unchanged} unchanged.",
    },
    "import.stale": {"zh": "文件、工作表、列对应或匹配方式已更改，请重新预检。",
                     "en": "The file, sheet, columns or matching changed; run the dry run again."},
}
