"""Labels of the app shell: navigation, login, sidebar, account page (zh / en)."""

SHELL: dict[str, dict[str, str]] = {
    "app.title": {"zh": "客户主数据", "en": "Customer Master"},
    "nav.customers": {"zh": "客户查询", "en": "Customers"},
    "nav.new_customer": {"zh": "新建客户", "en": "New customer"},
    "nav.analytics": {"zh": "客户分析", "en": "Analytics"},
    "nav.account": {"zh": "我的账户", "en": "My account"},
    "page.no_access": {
        "zh": "您没有访问此页面的权限，或尚未登录。",
        "en": "You do not have access to this page, or you are not logged in.",
    },
    # -- login ------------------------------------------------------------------------
    "auth.login_title": {"zh": "登录", "en": "Log in"},
    "auth.login_intro": {
        "zh": "客户档案的录入、查询与分析。请使用您的账户登录。",
        "en": "Enter, find and analyse your customers. Please log in with your account.",
    },
    "auth.username": {"zh": "用户名", "en": "Username"},
    "auth.password": {"zh": "密码", "en": "Password"},
    "auth.login_button": {"zh": "登录", "en": "Log in"},
    "auth.logout": {"zh": "退出登录", "en": "Log out"},
    "auth.forgot_password": {"zh": "忘记密码？", "en": "Forgot your password?"},
    "auth.forgot_password_help": {
        "zh": "请联系系统管理员重置密码：管理员在「{page}」页面为您设置一个临时密码，您用它登录后需立即设置自己的新密码。",
        "en": "Ask an administrator to reset it: they set a temporary password for you on the {page} page, "
              "and after logging in with it you choose your own.",
    },
    "auth.demo_hint": {
        "zh": "演示模式：各角色的演示账户见 README。",
        "en": "Demo mode: the demo logins for each role are listed in the README.",
    },
    "auth.session_ended": {
        "zh": "您的登录已失效（密码已更改或账户已停用），请重新登录。",
        "en": "Your session has ended (the password was changed or the account deactivated). Please log in again.",
    },
    # -- sidebar ----------------------------------------------------------------------
    "shell.signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "shell.role": {"zh": "角色：{role}", "en": "Role: {role}"},
    "shell.language": {"zh": "语言 / Language", "en": "Language / 语言"},
    # -- start-up checks (production mode) -----------------------------------------
    "config.refuse_title": {
        "zh": "生产模式下应用拒绝启动，请先修正以下配置：",
        "en": "The app refuses to start in production mode. Fix the configuration first:",
    },
    "config.bad_mode": {
        "zh": "未知的运行模式 CM_MODE={mode}（可选 demo 或 production）。",
        "en": "Unknown mode CM_MODE={mode} (use demo or production).",
    },
    "config.bad_memory_limit": {
        "zh": "CM_DUCKDB_MEMORY_LIMIT={value} 不是有效的内存大小（例如 512MB 或 1.5GB）。",
        "en": "CM_DUCKDB_MEMORY_LIMIT={value} is not a memory size (such as 512MB or 1.5GB).",
    },
    "config.cookie_key_missing": {
        "zh": "缺少 Cookie 签名密钥：请设置环境变量 CM_COOKIE_KEY 或在 .streamlit/secrets.toml 的 [auth] 中设置 cookie_key。",
        "en": "No cookie signing key: set CM_COOKIE_KEY or cookie_key under [auth] in .streamlit/secrets.toml.",
    },
    "config.cookie_key_short": {
        "zh": "Cookie 签名密钥太短，至少需要 {min} 个随机字节。生成方法：python -m lib.cli secrets --print（或 python -c \"import secrets; print(secrets.token_urlsafe(48))\"），把结果设为 CM_COOKIE_KEY 或 .streamlit/secrets.toml 中 [auth] 的 cookie_key。",
        "en": "The cookie signing key is too short; it needs at least {min} random bytes. Make one with python -m lib.cli secrets --print (or python -c \"import secrets; print(secrets.token_urlsafe(48))\") and set it as CM_COOKIE_KEY or cookie_key under [auth] in .streamlit/secrets.toml.",
    },
    "config.cookie_key_sample": {
        "zh": "Cookie 签名密钥不是随机生成的（需要至少 32 个随机字节，以十六进制或 base64 书写）。生成方法：python -m lib.cli secrets --print（或 python -c \"import secrets; print(secrets.token_urlsafe(48))\"），把结果设为 CM_COOKIE_KEY 或 .streamlit/secrets.toml 中 [auth] 的 cookie_key。",
        "en": "The cookie signing key is not a random key (at least 32 random bytes, written as hex or base64). Make one with python -m lib.cli secrets --print (or python -c \"import secrets; print(secrets.token_urlsafe(48))\") and set it as CM_COOKIE_KEY or cookie_key under [auth] in .streamlit/secrets.toml.",
    },
    "config.demo_users_active": {
        "zh": "演示用户仍处于启用状态（{users}），其密码已公开，请先停用。",
        "en": "Demo users are still active ({users}); their passwords are public. Deactivate them first.",
    },
    # -- account page -------------------------------------------------------------------
    "account.intro": {"zh": "查看您的账户信息并修改密码。", "en": "Your account details and password."},
    "account.username": {"zh": "用户名", "en": "Username"},
    "account.display_name": {"zh": "姓名", "en": "Name"},
    "account.role": {"zh": "角色", "en": "Role"},
    "account.change_password": {"zh": "修改密码", "en": "Change password"},
    "account.current_password": {"zh": "当前密码", "en": "Current password"},
    "account.new_password": {"zh": "新密码", "en": "New password"},
    "account.repeat_password": {"zh": "再次输入新密码", "en": "Repeat the new password"},
    "account.password_rules": {
        "zh": "至少 {min} 个字符。修改后，您在其他设备上的登录将失效。",
        "en": "At least {min} characters. Changing it ends your sessions on other devices.",
    },
    "account.submit": {"zh": "更新密码", "en": "Update password"},
    "account.passwords_differ": {"zh": "两次输入的新密码不一致。", "en": "The two new passwords do not match."},
    "account.password_changed": {"zh": "密码已更新。", "en": "Your password has been changed."},
    "config.cookie_key_public": {
        "zh": "Cookie 签名密钥出现在项目文件 {path} 中，等于公开。生成方法：python -m lib.cli secrets --print（或 python -c \"import secrets; print(secrets.token_urlsafe(48))\"），把结果设为 CM_COOKIE_KEY 或 .streamlit/secrets.toml 中 [auth] 的 cookie_key。",
        "en": "The cookie signing key appears in the project file {path}, so it is public. Make one with python -m lib.cli secrets --print (or python -c \"import secrets; print(secrets.token_urlsafe(48))\") and set it as CM_COOKIE_KEY or cookie_key under [auth] in .streamlit/secrets.toml.",
    },
}
