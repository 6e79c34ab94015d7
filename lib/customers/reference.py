"""The reference lists as first seeded (editable later by an administrator).

Each entry is ``(code, label_zh, label_en)``; the list order is the display order.
The database table ``reference_items`` is the source of truth; migration 1 wrote its
rows from a frozen copy (``lib/core/seeds/m001.py``), so a change here changes no
database (demo data and tests read these lists).
"""
from __future__ import annotations

from lib.core.seeds import m001

# GB/T 4754-2017 国民经济行业分类, the 20 sections.
INDUSTRIES = [
    ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    ("B", "采矿业", "Mining"),
    ("C", "制造业", "Manufacturing"),
    ("D", "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water production and supply"),
    ("E", "建筑业", "Construction"),
    ("F", "批发和零售业", "Wholesale and retail trade"),
    ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services"),
    ("H", "住宿和餐饮业", "Accommodation and catering"),
    ("I", "信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    ("J", "金融业", "Finance"),
    ("K", "房地产业", "Real estate"),
    ("L", "租赁和商务服务业", "Leasing and business services"),
    ("M", "科学研究和技术服务业", "Scientific research and technical services"),
    ("N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management"),
    ("O", "居民服务、修理和其他服务业", "Resident services, repair and other services"),
    ("P", "教育", "Education"),
    ("Q", "卫生和社会工作", "Health and social work"),
    ("R", "文化、体育和娱乐业", "Culture, sports and entertainment"),
    ("S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations"),
    ("T", "国际组织", "International organisations"),
]

TIERS = [
    ("A", "战略客户", "Strategic"),
    ("B", "重要客户", "Key"),
    ("C", "普通客户", "Regular"),
    ("D", "潜在客户", "Prospect"),
]

# Company size by headcount; individuals have none.
SIZES = [
    ("1-9", "1-9 人", "1-9 staff"),
    ("10-49", "10-49 人", "10-49 staff"),
    ("50-199", "50-199 人", "50-199 staff"),
    ("200-999", "200-999 人", "200-999 staff"),
    ("1000+", "1000 人以上", "1000+ staff"),
]

STATUSES = [
    ("prospect", "潜在", "Prospect"),
    ("active", "活跃", "Active"),
    ("dormant", "休眠", "Dormant"),
    ("blocked", "冻结", "Blocked"),
]

# Province-level divisions (GB/T 2260 codes) plus overseas.
REGIONS = [
    ("110000", "北京市", "Beijing"),
    ("120000", "天津市", "Tianjin"),
    ("130000", "河北省", "Hebei"),
    ("140000", "山西省", "Shanxi"),
    ("150000", "内蒙古自治区", "Inner Mongolia"),
    ("210000", "辽宁省", "Liaoning"),
    ("220000", "吉林省", "Jilin"),
    ("230000", "黑龙江省", "Heilongjiang"),
    ("310000", "上海市", "Shanghai"),
    ("320000", "江苏省", "Jiangsu"),
    ("330000", "浙江省", "Zhejiang"),
    ("340000", "安徽省", "Anhui"),
    ("350000", "福建省", "Fujian"),
    ("360000", "江西省", "Jiangxi"),
    ("370000", "山东省", "Shandong"),
    ("410000", "河南省", "Henan"),
    ("420000", "湖北省", "Hubei"),
    ("430000", "湖南省", "Hunan"),
    ("440000", "广东省", "Guangdong"),
    ("450000", "广西壮族自治区", "Guangxi"),
    ("460000", "海南省", "Hainan"),
    ("500000", "重庆市", "Chongqing"),
    ("510000", "四川省", "Sichuan"),
    ("520000", "贵州省", "Guizhou"),
    ("530000", "云南省", "Yunnan"),
    ("540000", "西藏自治区", "Tibet"),
    ("610000", "陕西省", "Shaanxi"),
    ("620000", "甘肃省", "Gansu"),
    ("630000", "青海省", "Qinghai"),
    ("640000", "宁夏回族自治区", "Ningxia"),
    ("650000", "新疆维吾尔自治区", "Xinjiang"),
    ("710000", "台湾省", "Taiwan"),
    ("810000", "香港特别行政区", "Hong Kong"),
    ("820000", "澳门特别行政区", "Macao"),
    ("overseas", "海外", "Overseas"),
]

CUSTOMER_TYPES = [
    ("company", "企业", "Company"),
    ("individual", "个人", "Individual"),
]

# Relationship kinds between two customers, read "from -> to".
RELATIONSHIP_KINDS = [
    ("supplier", "上游供应商", "Upstream supplier"),
    ("customer", "下游客户", "Downstream customer"),
    ("partner", "合作伙伴", "Partner"),
    ("parent", "母公司", "Parent company"),
    ("subsidiary", "子公司", "Subsidiary"),
]

# Roles are rows of the roles table (``Database.roles()``; labels for the UI through
# ``ui.context.role_label``). These are the rows migration 1 seeded, kept only for code
# not yet reading the table (the sidebar's role label).
ROLES = m001.ROLES

# Lists kept in the reference_items table, by list name.
LISTS = {
    "customer_type": CUSTOMER_TYPES,
    "industry": INDUSTRIES,
    "tier": TIERS,
    "size": SIZES,
    "status": STATUSES,
    "region": REGIONS,
    "relationship_kind": RELATIONSHIP_KINDS,
}
