"""Every user-facing message, in Simplified Chinese and English: this module's errors and
validation messages, plus the parts in ``i18n_shell`` (app shell), ``i18n_pages`` (business
pages), ``i18n_file`` (the customer file), ``i18n_import`` (import), ``i18n_export`` (export and
import template), ``i18n_cli`` (command line), ``i18n_merge`` (duplicates and merge),
``i18n_admin`` (the administration page), ``i18n_admin_lists`` (its reference lists
section) and ``i18n_audit`` (the audit log), assembled into ``MESSAGES`` at import.

Keys are stable identifiers used by errors (``lib.core.errors``) and pages; a drift test
checks that every key has both languages and that every key the code uses exists.
Parameters use ``str.format`` names.
"""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    # -- errors ---------------------------------------------------------------------
    "error.unexpected": {
        "zh": "出现意外错误（错误编号 {error_id}），请稍后再试或联系管理员。",
        "en": "Something went wrong (error id {error_id}). Please try again or contact the administrator.",
    },
    "error.validation": {"zh": "请更正标出的字段。", "en": "Please correct the marked fields."},
    "error.confirmation_required": {
        "zh": "请确认以下提示后再保存。",
        "en": "Please confirm the warnings below before saving.",
    },
    "error.permission_denied": {
        "zh": "您没有权限执行此操作。",
        "en": "You do not have permission to do this.",
    },
    "error.field_permission": {
        "zh": "您没有权限修改“{field}”。",
        "en": "You do not have permission to change “{field}”.",
    },
    "error.not_found": {"zh": "找不到该客户（{ref}）。", "en": "Customer not found ({ref})."},
    "error.conflict": {
        "zh": "该客户已被 {by} 于 {at} 修改，您的更改未保存。请查看最新内容后重试，您输入的内容已保留。",
        "en": "{by} changed this customer at {at}; your changes were not saved. Review the current values and try again — your input is kept.",
    },
    "error.write_conflict": {
        "zh": "另一位用户正在同时修改这条记录，请重试。",
        "en": "Someone else is saving this record at the same moment. Please try again.",
    },
    "error.archived": {
        "zh": "客户 {code} 已归档，请先恢复再修改。",
        "en": "Customer {code} is archived; restore it before editing.",
    },
    "error.duplicate": {"zh": "该值已被使用。", "en": "This value is already taken."},
    "error.duplicate_uscc": {
        "zh": "统一社会信用代码 {uscc} 已被客户 {code} 使用。",
        "en": "USCC {uscc} is already used by customer {code}.",
    },
    "error.duplicate_user": {"zh": "用户名 {username} 已存在。", "en": "The username {username} is taken."},
    "error.database_in_use": {
        "zh": "数据库文件 {path} 正被另一个进程占用（{holder}，PID {pid}）。请先停止该进程（例如正在运行的应用）再试。",
        "en": "The database file {path} is in use by another process ({holder}, PID {pid}). Stop that process (for example the running app) and try again.",
    },
    "error.config": {"zh": "配置错误：{detail}", "en": "Configuration error: {detail}"},
    "error.demo_no_owner": {
        "zh": "没有可负责演示客户的启用用户（销售或经理）。请先运行 init --demo 或 create-user。",
        "en": "No active sales or manager user to own demo customers. Run init --demo or create-user first.",
    },
    "error.backup_keep": {
        "zh": "至少保留 1 份备份（收到 {keep}）。",
        "en": "Keep at least 1 backup (got {keep}).",
    },
    "error.backup_exists": {
        "zh": "备份文件 {path} 已存在，请换一个文件名。",
        "en": "The backup file {path} already exists; choose another name.",
    },
    "error.backup_invalid": {
        "zh": "{path} 不是本系统可用的数据库备份。",
        "en": "{path} is not a usable backup of this application's database.",
    },
    "error.backup_newer": {
        "zh": "备份 {path} 来自更新版本的系统（数据结构版本 {version}），请先升级本系统。",
        "en": "The backup {path} comes from a newer version of the application (schema {version}); upgrade first.",
    },
    "error.bad_cursor": {"zh": "分页位置无效，请重新搜索。", "en": "Invalid page position; please search again."},
    "error.bad_filter": {"zh": "筛选条件无效：{field}", "en": "Invalid filter: {field}"},
    # -- authentication -------------------------------------------------------------
    "auth.invalid_credentials": {"zh": "用户名或密码错误。", "en": "Wrong username or password."},
    "auth.password_too_short": {
        "zh": "密码至少需要 {min} 个字符。",
        "en": "The password needs at least {min} characters.",
    },
    "auth.password_too_long": {
        "zh": "密码不能超过 72 字节。",
        "en": "The password may not exceed 72 bytes.",
    },
    "auth.wrong_current_password": {"zh": "当前密码不正确。", "en": "The current password is wrong."},
    "auth.bad_username": {
        "zh": "用户名只能包含小写字母、数字、点、下划线和连字符（2-40 个字符）。",
        "en": "A username is 2-40 lower-case letters, digits, dots, underscores or hyphens.",
    },
    "auth.bad_role": {"zh": "未知角色：{role}", "en": "Unknown role: {role}"},
    "auth.last_admin": {
        "zh": "这是唯一启用的管理员，不能停用或改为其他角色。请先让另一个用户成为管理员。",
        "en": "This is the only active administrator: it cannot be deactivated or given another role."
              " Make another user an administrator first.",
    },
    "auth.unknown_user": {"zh": "用户 {username} 不存在。", "en": "User {username} does not exist."},
    # -- field validation -------------------------------------------------------------
    "validation.invalid": {"zh": "内容无效。", "en": "This value is not valid."},
    "validation.required": {"zh": "必填。", "en": "Required."},
    "validation.not_text": {"zh": "请输入文字。", "en": "Please enter text."},
    "validation.control_chars": {
        "zh": "包含不允许的控制字符。",
        "en": "Contains control characters that are not allowed.",
    },
    "validation.too_long": {
        "zh": "最多 {max} 个字符（当前 {length} 个）。",
        "en": "At most {max} characters (this has {length}).",
    },
    "validation.unknown_field": {"zh": "未知字段：{field}", "en": "Unknown field: {field}"},
    "validation.read_only": {"zh": "该字段不可修改。", "en": "This field cannot be changed."},
    "validation.phone_unparseable": {
        "zh": "无法识别的电话号码：{value}",
        "en": "Not a phone number: {value}",
    },
    "validation.phone_invalid": {
        "zh": "电话号码 {value} 格式可识别，但不是有效号码。确认无误吗？",
        "en": "{value} looks like a phone number but is not a valid one. Is it correct?",
    },
    "validation.email_invalid": {"zh": "邮箱格式不正确：{value}", "en": "Not a valid email address: {value}"},
    "validation.uscc_malformed": {
        "zh": "统一社会信用代码应为 18 位（数字和大写字母，不含 I、O、S、V、Z，第 3-8 位为数字）。",
        "en": "A USCC has 18 characters (digits and capitals without I, O, S, V, Z; positions 3-8 digits).",
    },
    "validation.uscc_checksum": {
        "zh": "统一社会信用代码 {value} 的校验位不符。部分真实代码也会如此，确认无误吗？",
        "en": "The check character of USCC {value} does not match. Some real codes fail this check; is it correct?",
    },
    "validation.money_invalid": {"zh": "请输入金额，例如 50000 或 1,234.50。", "en": "Enter an amount, e.g. 50000 or 1,234.50."},
    "validation.money_negative": {"zh": "金额不能为负数。", "en": "The amount cannot be negative."},
    "validation.money_decimals": {"zh": "最多两位小数。", "en": "At most two decimal places."},
    "validation.money_too_large": {"zh": "金额不能超过 {max}。", "en": "The amount cannot exceed {max}."},
    "validation.not_in_list": {"zh": "“{value}”不在可选列表中。", "en": "“{value}” is not one of the choices."},
    "validation.inactive_choice": {"zh": "“{value}”已停用。", "en": "“{value}” is no longer in use."},
    "validation.unknown_user": {"zh": "用户 {value} 不存在或已停用。", "en": "User {value} does not exist or is inactive."},
    "validation.size_for_individual": {
        "zh": "个人客户不填写公司规模。",
        "en": "Individuals have no company size.",
    },
    "validation.money_exponent": {
        "zh": "请直接写出金额（如 1000），不要用科学计数法（如 1e3）。",
        "en": "Write the amount out (e.g. 1000), not in exponent notation (e.g. 1e3).",
    },
    "validation.money_digits": {
        "zh": "金额请用半角数字 0-9（请关闭全角输入）。",
        "en": "Use the digits 0-9 for amounts (not full-width or other digits).",
    },
    "validation.number_invalid": {"zh": "请输入数字，例如 12.5 或 -3。", "en": "Enter a number, e.g. 12.5 or -3."},
    "validation.number_decimals": {"zh": "最多四位小数。", "en": "At most four decimal places."},
    "validation.number_too_large": {
        "zh": "数值须在 -{max} 到 {max} 之间。",
        "en": "The number must be between -{max} and {max}.",
    },
    "validation.number_exponent": {
        "zh": "请直接写出数字（如 1000），不要用科学计数法（如 1e3）。",
        "en": "Write the number out (e.g. 1000), not in exponent notation (e.g. 1e3).",
    },
    "validation.number_digits": {
        "zh": "数字请用半角 0-9（请关闭全角输入）。",
        "en": "Use the digits 0-9 for numbers (not full-width or other digits).",
    },
    "validation.yesno_invalid": {"zh": "请填写“是”或“否”。", "en": "Enter yes or no."},
    "validation.url_invalid": {
        "zh": "“{value}”不是有效的网址，请以 http:// 或 https:// 开头，例如 https://www.example.com。",
        "en": "“{value}” is not a web address: start it with http:// or https://, e.g. https://www.example.com.",
    },
    "validation.possible_duplicates": {
        "zh": "可能已有 {n} 个相同的客户。确认仍要保存吗？",
        "en": "{n} existing customer(s) may be the same. Save anyway?",
    },
    "auth.login_delayed": {
        "zh": "登录失败次数过多，请 {seconds} 秒后再试。",
        "en": "Too many failed logins. Try again in {seconds} s.",
    },
}


def combine(*parts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """One catalogue from several parts; a key defined in two parts raises ``ValueError``
    (one of them would silently hide the other). Duplicates inside one dict literal are
    caught by the drift test, which reads the source."""
    out: dict[str, dict[str, str]] = {}
    for part in parts:
        twice = sorted(out.keys() & part.keys())
        if twice:
            raise ValueError(f"message keys defined twice: {', '.join(twice)}")
        out.update(part)
    return out


def _merge() -> None:
    # Each part of the app owns its labels in its own module: the shell, the business
    # pages, the customer file, the command line, duplicates and merge, administration and its
    # reference lists. ``MESSAGES`` (the errors and validation above) becomes the
    # whole catalogue, assembled once at import.
    from lib.core.i18n_admin import ADMIN
    from lib.core.i18n_admin_lists import ADMIN_LISTS
    from lib.core.i18n_audit import AUDIT_MESSAGES
    from lib.core.i18n_cli import CLI
    from lib.core.i18n_export import EXPORT
    from lib.core.i18n_fields import FIELDS_MESSAGES
    from lib.core.i18n_file import FILE
    from lib.core.i18n_import import IMPORT
    from lib.core.i18n_merge import MERGE
    from lib.core.i18n_pages import PAGES
    from lib.core.i18n_shell import SHELL

    whole = combine(MESSAGES, SHELL, PAGES, FILE, IMPORT, EXPORT, CLI, MERGE, ADMIN, ADMIN_LISTS, FIELDS_MESSAGES,
                    AUDIT_MESSAGES)
    MESSAGES.clear()
    MESSAGES.update(whole)


_merge()


def t(key: str, lang: str = DEFAULT_LANG, **params) -> str:
    """The message ``key`` in ``lang``; falls back to the key itself if it is missing so
    a missing translation is visible rather than a crash (the drift test catches it)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get(DEFAULT_LANG) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text

