"""Messages of the administration page (zh / en): its sections and their refusals."""

ADMIN: dict[str, dict[str, str]] = {
    "nav.admin": {"zh": "系统管理", "en": "Administration"},
    "admin.intro": {
        "zh": "用户与角色等系统设置。每项更改都记入审计日志。",
        "en": "Users and roles, and the other settings of the system. Every change goes into the audit log.",
    },
    # -- users --------------------------------------------------------------------------
    "admin.tab_users": {"zh": "用户", "en": "Users"},
    "admin.users_caption": {
        "zh": "共 {n} 个用户，其中 {active} 个启用。",
        "en": "{n} users, {active} of them active.",
    },
    "admin.col_username": {"zh": "用户名", "en": "Username"},
    "admin.col_display_name": {"zh": "姓名", "en": "Name"},
    "admin.col_email": {"zh": "邮箱", "en": "E-mail"},
    "admin.col_role": {"zh": "角色", "en": "Role"},
    "admin.col_active": {"zh": "启用", "en": "Active"},
    "admin.col_demo": {"zh": "演示账号", "en": "Demo account"},
    "admin.create_title": {"zh": "新建用户", "en": "New user"},
    "admin.username_rules": {
        "zh": "2–40 个小写字母、数字或 . _ -，创建后不能更改。",
        "en": "2–40 lowercase letters, digits or . _ -; it cannot be changed later.",
    },
    "admin.create": {"zh": "创建用户", "en": "Create user"},
    "admin.created": {"zh": "已创建用户 {username}。", "en": "User {username} created."},
    "admin.password_once": {
        "zh": "初始密码只显示这一次，请交给该用户；首次登录时必须改为自己的密码。",
        "en": "The password is shown this once: hand it to the user, who must choose their own at the first login.",
    },
    "admin.manage_title": {"zh": "管理用户", "en": "Manage a user"},
    "admin.choose_user": {"zh": "选择用户", "en": "Choose a user"},
    "admin.state_active": {"zh": "启用", "en": "active"},
    "admin.state_inactive": {"zh": "已停用", "en": "deactivated"},
    "admin.set_role": {"zh": "更改角色", "en": "Change role"},
    "admin.role_set": {
        "zh": "{username} 的角色已改为{role}，从其下一次操作起生效。",
        "en": "{username} is now {role}, from their next action on.",
    },
    "admin.deactivate": {"zh": "停用", "en": "Deactivate"},
    "admin.deactivated": {
        "zh": "已停用 {username}，其所有登录已结束。",
        "en": "{username} is deactivated; their logins have ended everywhere.",
    },
    "admin.reactivate": {"zh": "重新启用", "en": "Reactivate"},
    "admin.reactivated": {"zh": "已重新启用 {username}。", "en": "{username} is active again."},
    "admin.reset_password": {"zh": "重置密码", "en": "Reset password"},
    "admin.reset_help": {
        "zh": "生成新的随机密码（只显示一次），结束该用户所有登录；其下次登录时必须修改。",
        "en": "Makes a new random password (shown once) and ends the user's logins; they must change it at the next login.",
    },
    "admin.password_reset": {"zh": "已重置 {username} 的密码。", "en": "The password of {username} is reset."},
    "admin.delays_title": {"zh": "登录等待", "en": "Login waits"},
    "admin.delays_none": {"zh": "目前没有用户需要等待才能登录。", "en": "Nobody has to wait before logging in."},
    "admin.delay_line": {
        "zh": "**{username}**：{failures} 次失败登录{where}，需等到 {until}。",
        "en": "**{username}**: {failures} failed logins{where}, waits until {until}.",
    },
    "admin.delay_known_browser": {"zh": "（在其常用浏览器上）", "en": " (from a browser they use)"},
    "admin.delay_other_browsers": {"zh": "（来自其他浏览器）", "en": " (from other browsers)"},
    "admin.lift": {"zh": "解除等待", "en": "Lift the wait"},
    "admin.lifted": {"zh": "已解除 {username} 的登录等待。", "en": "The login wait of {username} is lifted."},
    # -- a password an administrator set -------------------------------------------------
    "account.must_change": {
        "zh": "您的密码由管理员设置。请先在下方设置您自己的新密码，然后才能使用其他页面。",
        "en": "An administrator set your password. Choose your own below before you can use the other pages.",
    },
    # -- settings (lib.core.settings) ----------------------------------------------------
    "admin.tab_settings": {"zh": "设置", "en": "Settings"},
    "admin.settings_intro": {
        "zh": "修改后立即生效（会话时长从用户的下一次操作起生效）。",
        "en": "Changes apply at once (session lifetimes from each user's next action).",
    },
    "admin.settings_save": {"zh": "保存设置", "en": "Save settings"},
    "admin.settings_saved": {"zh": "已保存 {n} 项设置。", "en": "{n} settings saved."},
    "admin.settings_unchanged": {"zh": "没有需要保存的更改。", "en": "Nothing changed."},
    "admin.settings_group.codes": {"zh": "客户编号", "en": "Customer codes"},
    "admin.settings_group.customers": {"zh": "客户", "en": "Customers"},
    "admin.settings_group.files": {"zh": "文件", "en": "Files"},
    "admin.settings_group.login": {"zh": "登录失败", "en": "Failed logins"},
    "admin.settings_group.sessions": {"zh": "登录会话", "en": "Login sessions"},
    "setting.code_prefix": {"zh": "编号前缀", "en": "Code prefix"},
    "setting.code_width": {"zh": "序号位数", "en": "Digits of the number"},
    "setting.code_with_year": {"zh": "编号含年份", "en": "Year in the code"},
    "setting.review_days": {"zh": "复核周期（天）", "en": "Review period (days)"},
    "setting.campaign_max_customers": {"zh": "一次关怀活动最多客户数", "en": "Most customers in one care campaign"},
    "setting.upload_max_mb": {"zh": "上传文件大小上限（MB）", "en": "Upload size limit (MB)"},
    "setting.lockout_attempts": {"zh": "允许的失败次数", "en": "Failed logins allowed"},
    "setting.lockout_minutes": {"zh": "失败计数时间窗口（分钟）", "en": "Failures counted over (minutes)"},
    "setting.login_delay_seconds": {"zh": "首次等待（秒）", "en": "First wait (seconds)"},
    "setting.session_idle_minutes": {"zh": "空闲超时（分钟）", "en": "Idle timeout (minutes)"},
    "setting.session_max_hours": {"zh": "会话最长时长（小时）", "en": "Longest session (hours)"},
    "setting_help.code_prefix": {
        "zh": "1–4 个大写字母。只用于新客户，已有编号不变。",
        "en": "1–4 capital letters. New customers only; existing codes never change.",
    },
    "setting_help.code_width": {"zh": "序号补零到的位数（新客户）。", "en": "Digits the number is padded to (new customers)."},
    "setting_help.code_with_year": {
        "zh": "编号中包含创建年份，例如 C2026-000123（新客户）。",
        "en": "The year of creation in the code, e.g. C2026-000123 (new customers).",
    },
    "setting_help.review_days": {
        "zh": "超过这么多天未复核的客户在首页提醒。",
        "en": "Customers not reviewed for this many days are listed on the home page.",
    },
    "setting_help.campaign_max_customers": {
        "zh": "一次关怀活动能覆盖的客户数上限。",
        "en": "The most customers one care campaign may cover.",
    },
    "setting_help.upload_max_mb": {
        "zh": "签约文件的大小上限；服务器的上传上限为 25 MB。",
        "en": "The size limit of contract files; the server accepts uploads up to 25 MB.",
    },
    "setting_help.lockout_attempts": {
        "zh": "在时间窗口内允许的失败登录次数，超过后需等待才能再试。",
        "en": "Failed logins allowed within the window before the next attempt must wait.",
    },
    "setting_help.lockout_minutes": {
        "zh": "更早的失败登录不再计数。",
        "en": "Older failed logins are no longer counted.",
    },
    "setting_help.login_delay_seconds": {
        "zh": "超过允许次数后的第一次等待，之后每次加倍。",
        "en": "The first wait after too many failures; each further one doubles.",
    },
    "setting_help.session_idle_minutes": {
        "zh": "这么久没有任何操作，需重新登录。",
        "en": "After this long without any action the user must log in again.",
    },
    "setting_help.session_max_hours": {
        "zh": "登录这么久之后，无论是否有操作，都需重新登录。",
        "en": "This long after logging in the user must log in again, active or not.",
    },
    "validation.not_integer": {"zh": "请输入整数。", "en": "Enter a whole number."},
    "validation.setting_range": {"zh": "请输入 {min} 到 {max} 之间的数。", "en": "Enter a number from {min} to {max}."},
    "validation.setting_pattern.code_prefix": {
        "zh": "请输入 1–4 个大写字母。",
        "en": "Enter 1–4 capital letters.",
    },
    # -- backups (lib.ops.backup, ui/admin_backups.py) ------------------------------------
    "admin.tab_backups": {"zh": "备份", "en": "Backups"},
    "admin.backups_intro": {
        "zh": "备份是数据库的一致副本，制作时应用照常运行。备份保存在服务器的 {folder}。",
        "en": "A backup is a consistent copy of the database, made while the app keeps serving."
              " Backups are kept on the server in {folder}.",
    },
    "admin.backup_now": {"zh": "立即备份", "en": "Back up now"},
    "admin.backup_made": {
        "zh": "已备份为 {name}（{size}，{customers} 个客户）。",
        "en": "Backed up as {name} ({size}, {customers} customers).",
    },
    "admin.backups_none": {"zh": "还没有备份。", "en": "No backups yet."},
    "admin.backup_download": {"zh": "下载", "en": "Download"},
    "admin.restore_title": {"zh": "恢复", "en": "Restore"},
    "admin.restore_warning": {
        "zh": "恢复会用所选备份替换全部数据；恢复前会自动备份当前数据。恢复时其他用户的操作会短暂等待，"
              "之后所有人（包括您）可能需要重新登录。",
        "en": "A restore replaces all data with the chosen backup; the current data is backed up first."
              " Other users wait a moment while it runs, and everyone (you too) may have to log in again.",
    },
    "admin.restore_upload": {"zh": "上传备份文件（.duckdb）", "en": "Upload a backup file (.duckdb)"},
    "admin.restore_keep_upload": {"zh": "保存到备份列表", "en": "Add to the backups"},
    "admin.backup_uploaded": {
        "zh": "已检查并保存上传的备份：{name}。可以在下方选择它进行恢复。",
        "en": "The uploaded backup is checked and kept as {name}; choose it below to restore it.",
    },
    "admin.restore_choose": {"zh": "选择要恢复的备份", "en": "Choose the backup to restore"},
    "admin.restore_confirm": {
        "zh": "我确认：用所选备份替换当前全部数据。",
        "en": "Yes: replace all current data with the chosen backup.",
    },
    "admin.restore": {"zh": "恢复", "en": "Restore"},
    "admin.restored": {
        "zh": "已从 {name} 恢复（{customers} 个客户）。恢复前的数据已备份为 {before}。",
        "en": "Restored from {name} ({customers} customers). The data before it is backed up as {before}.",
    },
}
