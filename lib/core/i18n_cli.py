"""What only the command line says (the app never shows these), in both languages."""

CLI: dict[str, dict[str, str]] = {
    "cli.migrated": {"zh": "数据库 {path}：数据结构版本 {version}。", "en": "Database {path}: schema version {version}."},
    "cli.demo_users": {"zh": "已创建演示用户：{users}", "en": "Created demo users: {users}"},
    "cli.demo_users_exist": {"zh": "演示用户已存在。", "en": "Demo users already exist."},
    "cli.demo_skipped": {"zh": "已有 {count} 个客户，未生成演示数据。", "en": "{count} customers exist; no demo data generated."},
    "cli.demo_done": {
        "zh": "已生成 {customers} 个客户（{first} … {last}）、{contacts} 个联系人、{activities} 条跟进记录、{relationships} 条客户关系和 {files} 个文件，用时 {seconds} 秒。",
        "en": "Generated {customers} customers ({first} … {last}), {contacts} contacts, {activities} follow-up records, {relationships} relationships and {files} files in {seconds} s.",
    },
    "cli.demo_in_production": {
        "zh": "生产模式（CM_MODE=production）下不能创建演示用户或演示数据。",
        "en": "Demo users and demo data are not allowed in production mode (CM_MODE=production).",
    },
    "cli.unknown_role": {"zh": "未知角色：{role}。可选角色：{roles}", "en": "Unknown role: {role}. Roles: {roles}"},
    "cli.user_created": {"zh": "已创建用户 {username}（{role}）。", "en": "Created user {username} ({role})."},
    "cli.password_reset": {"zh": "已重置 {username} 的密码，其现有登录已失效。", "en": "Password of {username} reset; their sessions have ended."},
    "cli.user_activated": {"zh": "已启用用户 {username}。", "en": "User {username} activated."},
    "cli.user_deactivated": {"zh": "已停用用户 {username}，其现有登录已失效。", "en": "User {username} deactivated; their sessions have ended."},
    "cli.password_prompt": {"zh": "新密码：", "en": "New password: "},
    "cli.password_again": {"zh": "再次输入：", "en": "Repeat: "},
    "cli.password_mismatch": {"zh": "两次输入的密码不一致。", "en": "The passwords do not match."},
    "cli.password_empty_stdin": {"zh": "标准输入中没有密码。", "en": "No password on standard input."},
    "cli.no_users": {"zh": "（没有用户）", "en": "(no users)"},
    "cli.users_header": {"zh": "用户名|角色|姓名|启用|演示", "en": "username|role|name|active|demo"},
    "cli.yes": {"zh": "是", "en": "yes"},
    "cli.no": {"zh": "否", "en": "no"},
    "cli.backup_needs_target": {
        "zh": "请给出备份文件名，或用 --keep N 备份到备份目录并只保留最新的 N 份。",
        "en": "Name the backup file, or give --keep N to back up into the backup folder keeping the newest N.",
    },
    "cli.backup_server_key": {
        "zh": "应用正在使用数据库；向服务器请求备份需要配置的 cookie 密钥（CM_COOKIE_KEY 或 .streamlit/secrets.toml）。",
        "en": "The app holds the database; asking the server for a backup needs the configured cookie key"
              " (CM_COOKIE_KEY or .streamlit/secrets.toml).",
    },
    "cli.backup_server_failed": {
        "zh": "应用正在使用数据库，向服务器 {server} 请求备份失败：{reason}",
        "en": "The app holds the database, and the backup asked of the server {server} failed: {reason}",
    },
    "cli.backup_done": {
        "zh": "已备份到 {path}（{size} 字节，{customers} 个客户）。",
        "en": "Backed up to {path} ({size} bytes, {customers} customers).",
    },
    "cli.restore_confirm": {
        "zh": "用备份 {backup}（{customers} 个客户）替换数据库 {path}？原文件将保留为副本。输入 yes 确认：",
        "en": "Replace the database {path} with the backup {backup} ({customers} customers)? The current file is kept as a copy. Type yes to confirm: ",
    },
    "cli.restore_needs_yes": {
        "zh": "没有终端可确认；如确需恢复，请加 --yes。",
        "en": "No terminal to confirm on; add --yes to restore.",
    },
    "cli.restore_cancelled": {"zh": "已取消，未做任何更改。", "en": "Cancelled; nothing was changed."},
    "cli.restore_done": {"zh": "已从 {backup} 恢复 {path}（{customers} 个客户）。", "en": "Restored {path} from {backup} ({customers} customers)."},
    "cli.restore_kept": {"zh": "原数据库文件保留为 {copy}。", "en": "The replaced file was kept as {copy}."},
    "cli.restore_advanced": {
        "zh": "编号序列已越过原文件中已发放的值：{names}",
        "en": "Sequences moved past the values already issued by the replaced file: {names}",
    },
    "cli.secrets_exists": {"zh": "{path} 已有 Cookie 密钥，未修改。", "en": "{path} already has a cookie key; left unchanged."},
    "cli.secrets_written": {"zh": "已在 {path} 写入新的随机 Cookie 密钥。", "en": "Wrote a new random cookie key to {path}."},
    "cli.secrets_conflict": {
        "zh": "{path} 已存在但没有 [auth] cookie_key；为避免覆盖，请手动添加。",
        "en": "{path} exists without [auth] cookie_key; add it by hand (this command never overwrites a file).",
    },
    "cli.interrupted": {"zh": "已中断。", "en": "Interrupted."},
    "cli.error": {"zh": "错误：", "en": "Error: "},
    "cli.no_login_delays": {"zh": "（没有需要等待的登录）", "en": "(no login has to wait)"},
    "cli.login_delays_header": {"zh": "用户名|浏览器|失败次数|等待至（UTC）", "en": "username|browsers|failures|waits until (UTC)"},
    "cli.known_browser": {"zh": "曾登录过的浏览器", "en": "a browser it logged in from"},
    "cli.unknown_browsers": {"zh": "其他浏览器", "en": "other browsers"},
    "cli.login_delay_lifted": {"zh": "已解除 {username} 的登录等待。", "en": "Login wait of {username} lifted."},
}
