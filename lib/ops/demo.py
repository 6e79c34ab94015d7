"""Realistic demo customers from a seed, loaded through a bulk path.

Why a separate path at all: ``create_customer`` commits one customer per transaction
(~4 ms each), so a million would take over an hour. The bulk path still builds every
record with the write path's own pieces — ``validate_customer`` with the context of
``customers.validation_context(db)`` and ``customers.build_rows`` — so what it stores
is what the form would have stored; only the timestamps (spread over three years), the
creator and the last review differ, because a demo base needs a history.
tests/test_demo.py holds the two paths to that.

Why workers: validating and building a customer (phone and e-mail parsing, pinyin) costs
~0.3 ms, several minutes for a million on one core. Chunk ``k`` is built from
``Random(seed, k)`` and the global index only, so the same seed and count give the same
rows whatever the number of workers; the main process only reserves numbers from the
sequences and inserts the Arrow tables the workers send back, in transactions of
``COMMIT_EVERY`` customers.

Codes and ids come from the database sequences (reserved in one query per sequence), so
a customer created through the form after a bulk load never gets a code twice.
"""
from __future__ import annotations

import bisect
import collections
import concurrent.futures
import contextlib
import itertools
import math
import multiprocessing
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import duckdb
import pyarrow as pa

from lib.customers import customer as cs
from lib.accounts import permissions as perm
from lib.customers import reference
from lib.core.clock import SHANGHAI_OFFSET_HOURS, to_local, utcnow
from lib.core.errors import ConfigError, ConfirmationRequired, ValidationError
from lib.customers.validation import USCC_ALPHABET, ValidationContext, uscc_check_char, validate_customer

CHUNK_SIZE = 10_000
# Customers per transaction. One transaction for a million held ~2.8 GB in the parent
# (DuckDB keeps uncommitted rows' index entries in memory); 100,000 held ~1.2 GB and
# loaded as fast; a commit per 10,000-row chunk took 2.5 times as long.
COMMIT_EVERY = 100_000
HISTORY_DAYS = 3 * 365
# Roles whose users own demo customers.
OWNER_ROLES = ("sales", "manager")

# -- word lists ---------------------------------------------------------------------------
# (region code, city, telephone area code, digits of a landline, districts as
# (name, GB/T 2260 code), weight). The weights make the coast and the big cities heavy,
# as in a real customer base; the district code feeds positions 3-8 of the USCC.
CITIES: tuple[tuple[str, str, str, int, tuple[tuple[str, str], ...], float], ...] = (
    ("110000", "北京市", "010", 8, (("朝阳区", "110105"), ("海淀区", "110108"), ("东城区", "110101"),
                                  ("西城区", "110102"), ("丰台区", "110106"), ("大兴区", "110115"),
                                  ("顺义区", "110113")), 7.0),
    ("310000", "上海市", "021", 8, (("浦东新区", "310115"), ("黄浦区", "310101"), ("徐汇区", "310104"),
                                  ("闵行区", "310112"), ("嘉定区", "310114"), ("松江区", "310117")), 8.0),
    ("120000", "天津市", "022", 8, (("和平区", "120101"), ("滨海新区", "120116"), ("南开区", "120104")), 2.0),
    ("500000", "重庆市", "023", 8, (("渝中区", "500103"), ("江北区", "500105"), ("渝北区", "500112")), 2.5),
    ("440000", "广州市", "020", 8, (("天河区", "440106"), ("越秀区", "440104"), ("番禺区", "440113"),
                                  ("白云区", "440111")), 6.0),
    ("440000", "深圳市", "0755", 8, (("南山区", "440305"), ("福田区", "440304"), ("宝安区", "440306"),
                                   ("龙岗区", "440307")), 8.0),
    ("440000", "东莞市", "0769", 8, (("长安镇", "441900"), ("虎门镇", "441900"), ("松山湖", "441900")), 3.5),
    ("440000", "佛山市", "0757", 8, (("顺德区", "440606"), ("南海区", "440605"), ("禅城区", "440604")), 3.0),
    ("440000", "珠海市", "0756", 7, (("香洲区", "440402"), ("金湾区", "440404")), 1.0),
    ("440000", "惠州市", "0752", 7, (("惠城区", "441302"), ("惠阳区", "441303")), 1.0),
    ("320000", "南京市", "025", 8, (("鼓楼区", "320106"), ("玄武区", "320102"), ("江宁区", "320115")), 3.5),
    ("320000", "苏州市", "0512", 8, (("姑苏区", "320508"), ("吴中区", "320506"), ("昆山市", "320583")), 5.0),
    ("320000", "无锡市", "0510", 8, (("滨湖区", "320211"), ("梁溪区", "320213")), 2.5),
    ("320000", "常州市", "0519", 8, (("武进区", "320412"), ("天宁区", "320402")), 1.5),
    ("330000", "杭州市", "0571", 8, (("西湖区", "330106"), ("滨江区", "330108"), ("余杭区", "330110"),
                                   ("萧山区", "330109")), 5.0),
    ("330000", "宁波市", "0574", 8, (("鄞州区", "330212"), ("北仑区", "330206")), 3.0),
    ("330000", "温州市", "0577", 8, (("鹿城区", "330302"), ("瓯海区", "330304")), 2.0),
    ("330000", "金华市", "0579", 8, (("义乌市", "330782"), ("婺城区", "330702")), 1.5),
    ("370000", "济南市", "0531", 8, (("历下区", "370102"), ("槐荫区", "370104")), 2.0),
    ("370000", "青岛市", "0532", 8, (("市南区", "370202"), ("黄岛区", "370211")), 2.5),
    ("370000", "烟台市", "0535", 7, (("芝罘区", "370602"), ("莱山区", "370613")), 1.0),
    ("350000", "福州市", "0591", 8, (("鼓楼区", "350102"), ("仓山区", "350104")), 1.5),
    ("350000", "厦门市", "0592", 7, (("思明区", "350203"), ("湖里区", "350206")), 2.0),
    ("350000", "泉州市", "0595", 8, (("丰泽区", "350503"), ("晋江市", "350582")), 1.5),
    ("420000", "武汉市", "027", 8, (("江汉区", "420103"), ("武昌区", "420106"), ("洪山区", "420111")), 3.0),
    ("420000", "宜昌市", "0717", 7, (("西陵区", "420502"),), 0.5),
    ("430000", "长沙市", "0731", 8, (("岳麓区", "430104"), ("芙蓉区", "430102")), 2.5),
    ("510000", "成都市", "028", 8, (("武侯区", "510107"), ("锦江区", "510104"), ("成华区", "510108")), 3.5),
    ("510000", "绵阳市", "0816", 7, (("涪城区", "510703"),), 0.5),
    ("410000", "郑州市", "0371", 8, (("金水区", "410105"), ("二七区", "410103")), 2.5),
    ("410000", "洛阳市", "0379", 8, (("西工区", "410303"),), 0.7),
    ("130000", "石家庄市", "0311", 8, (("长安区", "130102"), ("裕华区", "130108")), 1.2),
    ("130000", "唐山市", "0315", 7, (("路北区", "130203"),), 0.6),
    ("340000", "合肥市", "0551", 8, (("蜀山区", "340104"), ("包河区", "340111")), 2.0),
    ("340000", "芜湖市", "0553", 7, (("镜湖区", "340202"),), 0.5),
    ("610000", "西安市", "029", 8, (("雁塔区", "610113"), ("未央区", "610112")), 2.2),
    ("210000", "沈阳市", "024", 8, (("和平区", "210102"), ("浑南区", "210112")), 1.3),
    ("210000", "大连市", "0411", 8, (("中山区", "210202"), ("甘井子区", "210211")), 1.3),
    ("360000", "南昌市", "0791", 8, (("东湖区", "360102"), ("红谷滩区", "360113")), 1.0),
    ("450000", "南宁市", "0771", 7, (("青秀区", "450103"),), 0.9),
    ("530000", "昆明市", "0871", 8, (("五华区", "530102"), ("盘龙区", "530103")), 0.9),
    ("520000", "贵阳市", "0851", 8, (("南明区", "520102"), ("观山湖区", "520115")), 0.7),
    ("140000", "太原市", "0351", 7, (("小店区", "140105"),), 0.7),
    ("220000", "长春市", "0431", 8, (("朝阳区", "220104"),), 0.6),
    ("230000", "哈尔滨市", "0451", 8, (("南岗区", "230103"),), 0.7),
    ("150000", "呼和浩特市", "0471", 7, (("新城区", "150102"),), 0.4),
    ("150000", "包头市", "0472", 7, (("昆都仑区", "150203"),), 0.2),
    ("460000", "海口市", "0898", 8, (("龙华区", "460106"),), 0.4),
    ("620000", "兰州市", "0931", 7, (("城关区", "620102"),), 0.3),
    ("630000", "西宁市", "0971", 7, (("城中区", "630103"),), 0.1),
    ("640000", "银川市", "0951", 7, (("兴庆区", "640104"),), 0.15),
    ("650000", "乌鲁木齐市", "0991", 7, (("天山区", "650102"),), 0.3),
    ("540000", "拉萨市", "0891", 7, (("城关区", "540102"),), 0.05),
)
MUNICIPALITIES = {"110000", "310000", "120000", "500000"}
PROVINCE_NAMES = {code: zh for code, zh, _ in reference.REGIONS}

# Core of a company name: two characters, each with its pinyin (for the e-mail domain).
CORE_FIRST = [
    ("华", "hua"), ("恒", "heng"), ("金", "jin"), ("中", "zhong"), ("鼎", "ding"), ("宏", "hong"),
    ("瑞", "rui"), ("天", "tian"), ("新", "xin"), ("东", "dong"), ("博", "bo"), ("嘉", "jia"),
    ("永", "yong"), ("盛", "sheng"), ("泰", "tai"), ("德", "de"), ("广", "guang"), ("远", "yuan"),
    ("海", "hai"), ("正", "zheng"), ("兴", "xing"), ("诚", "cheng"), ("安", "an"), ("同", "tong"),
    ("立", "li"), ("凯", "kai"), ("汇", "hui"), ("创", "chuang"), ("环", "huan"), ("晶", "jing"),
    ("明", "ming"), ("腾", "teng"), ("万", "wan"), ("美", "mei"), ("力", "li"), ("宝", "bao"),
    ("长", "chang"), ("银", "yin"), ("富", "fu"),
]
CORE_SECOND = [
    ("达", "da"), ("通", "tong"), ("信", "xin"), ("科", "ke"), ("源", "yuan"), ("丰", "feng"),
    ("辉", "hui"), ("邦", "bang"), ("和", "he"), ("益", "yi"), ("隆", "long"), ("成", "cheng"),
    ("光", "guang"), ("润", "run"), ("祥", "xiang"), ("峰", "feng"), ("宇", "yu"), ("航", "hang"),
    ("锐", "rui"), ("鑫", "xin"), ("拓", "tuo"), ("驰", "chi"), ("迅", "xun"), ("展", "zhan"),
    ("瀚", "han"), ("睿", "rui"), ("诺", "nuo"), ("聚", "ju"), ("捷", "jie"), ("威", "wei"),
    ("讯", "xun"), ("卓", "zhuo"), ("越", "yue"), ("晟", "sheng"), ("康", "kang"), ("铭", "ming"),
]

# Industry section -> (weight, words that end a company name before the legal form).
INDUSTRY_WORDS: dict[str, tuple[float, tuple[str, ...]]] = {
    "A": (2.0, ("农业科技", "生态农业", "农产品", "畜牧", "水产养殖", "种业")),
    "B": (0.8, ("矿业", "矿产", "能源开发", "石材")),
    "C": (28.0, ("机械", "电子", "精密机械", "汽车零部件", "新材料", "化工", "纺织", "食品", "包装材料",
                 "模具", "电气", "光电", "五金制品", "塑胶制品", "医疗器械", "家具", "服饰", "智能装备",
                 "印刷", "生物制药")),
    "D": (1.0, ("能源", "燃气", "电力", "新能源", "热力")),
    "E": (6.0, ("建设工程", "建筑工程", "装饰工程", "市政工程", "钢结构工程", "机电安装")),
    "F": (20.0, ("贸易", "商贸", "进出口", "供应链", "百货", "电子商务", "医药", "建材", "食品贸易")),
    "G": (5.0, ("物流", "运输", "国际货运代理", "仓储", "快递", "航运")),
    "H": (3.0, ("餐饮管理", "酒店管理", "餐饮", "食品配送")),
    "I": (10.0, ("科技", "信息技术", "软件", "网络科技", "数据科技", "智能科技", "通信技术", "云计算")),
    "J": (2.0, ("投资管理", "融资租赁", "保险代理", "资产管理")),
    "K": (3.0, ("置业", "房地产开发", "物业管理", "地产")),
    "L": (7.0, ("企业管理咨询", "商务咨询", "人力资源", "广告", "会展服务", "知识产权代理", "品牌管理")),
    "M": (5.0, ("检测技术", "工程设计", "生物技术", "环境科技", "勘察设计")),
    "N": (1.0, ("环保科技", "园林绿化", "水务环境", "环境工程")),
    "O": (1.5, ("家政服务", "汽车维修", "清洁服务", "洗涤服务")),
    "P": (1.5, ("教育科技", "职业培训学校", "教育咨询")),
    "Q": (2.0, ("医疗管理", "健康管理", "医院", "康养")),
    "R": (2.0, ("文化传媒", "体育发展", "影视", "文化创意")),
    "S": (0.5, ("行业协会", "商会", "促进会")),
    "T": (0.2, ()),  # international organisations: English names only
}
# Words that are a complete name ending (no 有限公司 after them).
_NO_LEGAL_FORM = ("医院", "学校")
ASSOCIATION = ("协会", "商会", "促进会")
ASSOCIATION_TRADES = ("电子", "物流", "软件", "建筑", "外商投资企业", "中小企业", "服装", "餐饮")
LEGAL_FORMS = (("有限公司", 62), ("股份有限公司", 14), ("有限责任公司", 9), ("集团有限公司", 5), ("集团", 2))

EN_FIRST = ("Pacific", "Golden", "Blue Ocean", "Northstar", "Evergreen", "Silver", "Eastern", "Global",
            "Summit", "Crescent", "Pioneer", "Atlas", "Horizon", "Sterling", "Redwood", "Orient",
            "Unity", "Bright", "Apex", "Harbor", "Jade", "Lotus", "Meridian", "Sunrise")
EN_SECOND = ("Harbor", "Bridge", "Gate", "Star", "Peak", "Line", "Point", "Bay", "Ridge", "Way",
             "Field", "Crest", "Link", "Source", "Stone", "River", "Wave", "Crown")
# section -> English industry words
EN_INDUSTRY = {
    "F": ("Trading", "Import & Export", "Supply Chain"), "G": ("Logistics", "Shipping", "Freight"),
    "I": ("Technology", "Software", "Digital"), "C": ("Precision Machinery", "Electronics", "Foods", "Materials"),
    "L": ("Consulting", "Business Services"), "J": ("Capital", "Investment"), "K": ("Properties",),
    "E": ("Engineering",), "Q": ("Healthcare",), "R": ("Media",), "P": ("Education",), "D": ("Energy",),
    "N": ("Environmental",), "M": ("Research", "Testing Services"), "H": ("Hospitality",),
}
EN_SUFFIX_OVERSEAS = ("Ltd", "Limited", "Inc.", "LLC", "GmbH", "Pte. Ltd.", "Corp.", "B.V.", "PLC", "Co., Ltd.")
EN_ORGS = ("Asia Pacific Trade Development Council", "International Standards Liaison Office",
           "Pacific Rim Shipping Association", "Global Green Supply Chain Alliance",
           "East Asia Business Exchange Forum")
# (country, phone pattern, cities with street examples); "#" is a random digit.
OVERSEAS = (
    ("USA", "+1 212 #{2-9}## ####", ("New York, NY",), ("Broadway", "Madison Avenue", "Wall Street")),
    ("USA", "+1 415 #{2-9}## ####", ("San Francisco, CA",), ("Market Street", "Mission Street")),
    ("United Kingdom", "+44 20 7### ####", ("London",), ("Fleet Street", "King's Road", "Baker Street")),
    ("Singapore", "+65 6#{1-5}## ####", ("Singapore",), ("Orchard Road", "Raffles Place", "Robinson Road")),
    ("Germany", "+49 30 ########", ("Berlin",), ("Friedrichstraße", "Kurfürstendamm")),
    ("Japan", "+81 3 #{2-8}### ####", ("Tokyo",), ("Ginza", "Nihonbashi")),
    ("Australia", "+61 2 9### ####", ("Sydney NSW",), ("George Street", "Pitt Street")),
)
HONG_KONG_PHONE = "+852 2#{3-9}## ####"

SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"), ("袁", "yuan"),
    ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"), ("余", "yu"), ("杜", "du"),
    ("叶", "ye"), ("程", "cheng"), ("苏", "su"), ("魏", "wei"), ("吕", "lv"), ("丁", "ding"),
    ("任", "ren"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"),
    ("钟", "zhong"), ("谭", "tan"), ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"),
    ("石", "shi"), ("廖", "liao"), ("贾", "jia"), ("夏", "xia"), ("韦", "wei"), ("方", "fang"),
    ("白", "bai"), ("邹", "zou"), ("孟", "meng"), ("熊", "xiong"), ("秦", "qin"), ("邱", "qiu"),
    ("江", "jiang"), ("尹", "yin"), ("薛", "xue"), ("段", "duan"), ("雷", "lei"), ("侯", "hou"),
    ("龙", "long"), ("史", "shi"), ("陶", "tao"), ("黎", "li"), ("贺", "he"), ("顾", "gu"),
    ("毛", "mao"), ("郝", "hao"), ("龚", "gong"), ("邵", "shao"), ("万", "wan"), ("钱", "qian"),
    ("欧阳", "ouyang"), ("司马", "sima"),
]
# Zipf-like: the first few surnames cover a large share of people, as in China.
SURNAME_WEIGHTS = [1.0 / (rank + 3) for rank in range(len(SURNAMES))]
GIVEN_CHARS = [
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("勇", "yong"), ("杰", "jie"),
    ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("刚", "gang"), ("平", "ping"), ("辉", "hui"),
    ("鹏", "peng"), ("华", "hua"), ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("斌", "bin"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("峰", "feng"), ("建", "jian"), ("国", "guo"), ("志", "zhi"),
    ("文", "wen"), ("海", "hai"), ("东", "dong"), ("晓", "xiao"), ("子", "zi"), ("博", "bo"),
    ("嘉", "jia"), ("泽", "ze"), ("瑞", "rui"), ("晨", "chen"), ("昊", "hao"), ("然", "ran"),
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("艳", "yan"),
    ("娟", "juan"), ("霞", "xia"), ("秀", "xiu"), ("英", "ying"), ("玲", "ling"), ("婷", "ting"),
    ("雪", "xue"), ("慧", "hui"), ("莹", "ying"), ("倩", "qian"), ("琳", "lin"), ("颖", "ying"),
    ("洁", "jie"), ("燕", "yan"), ("萍", "ping"), ("红", "hong"), ("梅", "mei"), ("璐", "lu"),
    ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("雨", "yu"), ("思", "si"), ("涵", "han"),
    ("悦", "yue"), ("琪", "qi"), ("梦", "meng"), ("馨", "xin"),
]
EN_PEOPLE_FIRST = ("David", "Sarah", "Michael", "Emily", "James", "Linda", "Kevin", "Grace", "Daniel",
                   "Jessica", "Peter", "Anna", "Thomas", "Sophie", "Ryan", "Olivia")
EN_PEOPLE_LAST = ("Smith", "Brown", "Chen", "Lim", "Wong", "Taylor", "Müller", "Tanaka", "Wilson",
                  "Lee", "Davies", "Schmidt", "Ng", "Clark")
TITLES = (("采购经理", 18), ("采购主管", 8), ("总经理", 10), ("副总经理", 5), ("财务经理", 8),
          ("财务总监", 3), ("行政经理", 5), ("销售总监", 4), ("技术总监", 4), ("项目经理", 8),
          ("采购专员", 8), ("总经理助理", 4), ("董事长", 2), ("运营经理", 4), ("供应链经理", 4), ("IT经理", 2))
EN_TITLES = ("Purchasing Manager", "Managing Director", "Finance Manager", "Operations Director",
             "Sourcing Lead", "General Manager")
ROADS = ("人民路", "中山路", "解放路", "建设路", "新华路", "科技路", "创业大道", "学府路", "长江路", "黄河路",
         "工业大道", "滨江大道", "高新一路", "高新二路", "世纪大道", "迎宾路", "东方路", "南京路", "和平路",
         "光明路", "振兴路", "发展大道", "文化路", "金融街", "环城北路", "江南大道")
ESTATES = ("阳光花园", "翠湖小区", "锦绣家园", "金色家园", "碧桂苑", "幸福里", "紫荆苑", "御景湾", "和谐家园")
COMPANY_MAILBOXES = ("info", "sales", "service", "contact", "purchase", "admin", "office", "market", "hr")
PERSONAL_MAIL = (("163.com", 30), ("qq.com", 30), ("126.com", 10), ("sina.com", 5), ("foxmail.com", 5),
                 ("outlook.com", 6), ("gmail.com", 4), ("139.com", 4), ("aliyun.com", 3))
TLDS = ((".com", 45), (".com.cn", 30), (".cn", 15), (".net", 10))

NOTES = ("年度框架协议客户，按季度对账。", "展会获取的线索，待跟进。", "付款周期 60 天，需预付 30%。",
         "老客户转介绍。", "开票信息已确认，增值税专用发票。", "曾有逾期记录，注意信用风险。",
         "对价格敏感，倾向年底集中采购。", "已签保密协议。", "需要英文版合同。", "每月初下单，账期 30 天。",
         "客户要求送货上门，需提前预约。", "关注交期和质量，投诉需 24 小时内响应。")
BLOCKED_NOTES = ("因长期逾期已冻结，恢复需财务审批。", "存在合同纠纷，暂停合作。")

ACTIVITY_KINDS = (("call", 35), ("visit", 20), ("email", 15), ("meeting", 10), ("care", 10), ("note", 10))
ACTIVITY_SUMMARIES = {
    "call": ("电话沟通采购需求，客户计划下季度增加订单。", "电话确认报价细节，对方需内部审批。",
             "回访使用情况，客户反馈良好。", "电话催收应收款，对方承诺月底前付款。"),
    "visit": ("上门拜访，参观生产线，了解产能。", "拜访采购部门，介绍新产品线。", "现场解决安装问题。"),
    "email": ("发送产品目录和报价单。", "邮件确认合同条款修改。", "发送对账单。"),
    "meeting": ("参加客户年度供应商大会。", "线上会议讨论技术方案。", "商务谈判，讨论年度框架协议。"),
    "care": ("节日问候并寄送礼品。", "客户生日问候。", "满意度回访。"),
    "note": ("客户更换采购负责人。", "客户公司地址变更，已更新。", "竞争对手报价更低，需关注。"),
}
NEXT_ACTIONS = ("发送正式报价单", "安排技术交流会", "跟进合同签署", "确认交货时间", "催收尾款", "寄送样品",
                "预约下次拜访", "提交投标文件", "安排售后培训", "确认开票信息")

SIZES = tuple(code for code, _, _ in reference.SIZES)
SIZE_WEIGHTS = (22, 34, 24, 13, 7)
TIERS = tuple(code for code, _, _ in reference.TIERS)

# Arrow types by SQL type: the customer, contact and audit columns and their types come
# from the write path (lib.customers.customer), which derives them from the declaration.
_TS = pa.timestamp("us")
_ARROW = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(), "TIMESTAMP": _TS,
          "VARCHAR": pa.string(), "DECIMAL(14,2)": pa.decimal128(14, 2)}
ACTIVITY_COLUMN_TYPES = {
    "id": "BIGINT", "customer_id": "BIGINT", "kind": "VARCHAR", "summary": "VARCHAR", "occurred_at": "TIMESTAMP",
    "next_action": "VARCHAR", "due_at": "TIMESTAMP", "done": "BOOLEAN", "owner": "VARCHAR",
    "created_at": "TIMESTAMP", "created_by": "VARCHAR", "version": "INTEGER", "deleted": "BOOLEAN",
}
ACTIVITY_COLUMNS = tuple(ACTIVITY_COLUMN_TYPES)


def _arrow_type(sql_type: str) -> pa.DataType:
    return _ARROW[sql_type]


def _schema(columns: Mapping[str, str]) -> pa.Schema:
    return pa.schema([(c, _arrow_type(t)) for c, t in columns.items()])


CUSTOMER_SCHEMA = _schema(cs.customer_columns())
CONTACT_SCHEMA = _schema(cs.contact_columns())
AUDIT_SCHEMA = _schema(cs.AUDIT_COLUMN_TYPES)
ACTIVITY_SCHEMA = _schema(ACTIVITY_COLUMN_TYPES)


# -- the plan: everything a worker needs, picklable ------------------------------------
@dataclass(frozen=True)
class Person:
    username: str
    role: str
    weight: float
    # may set any owner and a credit limit (manager, admin): creates customers for others
    can_assign: bool


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    total: int
    now: datetime  # naive UTC; every generated instant is before it
    lists: dict
    usernames: frozenset
    settings: dict
    owners: tuple[Person, ...]
    assigners: tuple[str, ...]
    activities: bool = True
    chunk_size: int = CHUNK_SIZE
    _cum_days: tuple[float, ...] = field(default=(), repr=False)
    _first_day: date = field(default=date(2000, 1, 1), repr=False)


@dataclass(frozen=True)
class DemoCustomer:
    """One generated customer: the values a user would type, plus its history."""

    index: int
    values: dict[str, Any]
    created_at: datetime
    created_by: str
    reviewed_at: datetime
    reviewed_by: str
    activities: tuple[dict, ...] = ()


@dataclass
class DemoStats:
    customers: int = 0
    contacts: int = 0
    activities: int = 0
    first_code: str | None = None
    last_code: str | None = None
    seconds: float = 0.0
    workers: int = 1


def make_plan(db, customers: int, seed: int = 42, *, now: datetime | None = None, activities: bool = True,
              chunk_size: int = CHUNK_SIZE) -> DemoPlan:
    """Read what generation depends on from the database: reference lists, users,
    settings and permissions. Raises ``ConfigError`` when nobody could own a customer."""
    ctx = cs.validation_context(db)
    permissions = db.permissions()
    with db.read() as cur:
        rows = cur.execute(
            "SELECT username, role FROM users WHERE active ORDER BY username").fetchall()

    def can_assign(role: str) -> bool:
        p = permissions.get(role, {})
        return all(p.get(a) == perm.ALL for a in (perm.CUSTOMER_CREATE, perm.CUSTOMER_SET_OWNER,
                                                   perm.CUSTOMER_SET_CREDIT))

    rng = random.Random(f"demo-owners:{seed}")
    owners = []
    for username, role in rows:
        if role in OWNER_ROLES and permissions.get(role, {}).get(perm.CUSTOMER_CREATE):
            # Salespeople carry most customers; some carry far more than others.
            base = 3.0 if role == "sales" else 1.0
            owners.append(Person(username, role, base * rng.uniform(0.4, 2.0), can_assign(role)))
    if not owners:
        raise ConfigError("error.demo_no_owner")
    assigners = tuple(u for u, r in rows if r == "manager" and can_assign(r)) or \
        tuple(u for u, r in rows if can_assign(r))
    now = now or utcnow().replace(microsecond=0)
    first_day, cum = _day_distribution(now)
    return DemoPlan(seed=seed, total=customers, now=now, lists=dict(ctx.lists), usernames=frozenset(ctx.usernames),
                    settings=dict(db.settings()), owners=tuple(owners), assigners=assigners, activities=activities,
                    chunk_size=chunk_size, _cum_days=cum, _first_day=first_day)


# Growth with seasons: few new customers around the Spring Festival and the National
# Day holiday, more after them and at year end; weekends are quiet.
_MONTH_FACTOR = {1: 0.9, 2: 0.55, 3: 1.15, 4: 1.05, 5: 1.0, 6: 1.05, 7: 0.95, 8: 0.95, 9: 1.05,
                 10: 0.8, 11: 1.1, 12: 1.15}
_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.25, 0.15)


def _day_distribution(now: datetime) -> tuple[date, tuple[float, ...]]:
    last_day = to_local(now).date() - timedelta(days=1)
    first_day = last_day - timedelta(days=HISTORY_DAYS - 1)
    weights = []
    for d in range(HISTORY_DAYS):
        day = first_day + timedelta(days=d)
        growth = math.exp(1.1 * d / HISTORY_DAYS)
        weights.append(growth * _MONTH_FACTOR[day.month] * _WEEKDAY_FACTOR[day.weekday()])
    total = sum(weights)
    cum, acc = [], 0.0
    for w in weights:
        acc += w
        cum.append(acc / total)
    cum[-1] = 1.0
    return first_day, tuple(cum)


def _created_at(plan: DemoPlan, position: float) -> datetime:
    """The creation instant at ``position`` in [0, 1) of the history: monotonic, so codes
    (handed out in index order) grow with time as they would in real life."""
    cum = plan._cum_days
    d = bisect.bisect_right(cum, position)
    d = min(d, len(cum) - 1)
    lo = cum[d - 1] if d else 0.0
    frac = (position - lo) / ((cum[d] - lo) or 1.0)
    day = plan._first_day + timedelta(days=d)
    # Office hours, 08:30-18:30 Shanghai time, stored as UTC.
    seconds = int(min(max(frac, 0.0), 0.999999) * 36000)
    local = datetime(day.year, day.month, day.day, 8, 30) + timedelta(seconds=seconds)
    return local - timedelta(hours=SHANGHAI_OFFSET_HOURS)


# -- values --------------------------------------------------------------------------------
# random.choice and randint cost about a microsecond each (argument checks, rejection
# sampling); a generated customer needs a few dozen of them, so these do the same job
# on one random() each.
def _one(rng: random.Random, seq: Sequence) -> Any:
    return seq[int(rng.random() * len(seq))]


def _int(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _digits(rng: random.Random, n: int, first: str = "0123456789") -> str:
    """n digits, the first one from ``first``."""
    rest = n - 1
    return _one(rng, first) + (f"{int(rng.random() * 10 ** rest):0{rest}d}" if rest > 0 else "")


def _pattern(rng: random.Random, pattern: str) -> str:
    """'+1 212 #{2-9}## ####': '#' is a digit, '{..}' a digit from a set or range."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "#" and pattern[i + 1:i + 2] == "{":
            end = pattern.index("}", i)
            spec = pattern[i + 2:end]
            choices = "".join(str(x) for x in range(int(spec[0]), int(spec[2]) + 1)) if "-" in spec else spec
            out.append(_one(rng, choices))
            i = end + 1
            continue
        out.append(_one(rng, "0123456789") if ch == "#" else ch)
        i += 1
    return "".join(out)


_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
                    "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183",
                    "185", "186", "187", "188", "189", "191", "195", "198", "199")


def mobile(rng: random.Random) -> str:
    number = _one(rng, _MOBILE_PREFIXES) + _digits(rng, 8)
    style = rng.random()
    if style < 0.7:
        return number
    if style < 0.85:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if style < 0.95:
        return f"+86 {number[:3]} {number[3:7]} {number[7:]}"
    return f"{number[:3]}-{number[3:7]}-{number[7:]}"


def landline(rng: random.Random, city: tuple, extension: bool = False) -> str:
    area, length = city[2], city[3]
    local = _one(rng, "2345678") + _digits(rng, length - 1, "123456789")
    style = rng.random()
    if style < 0.7:
        text = f"{area}-{local}"
    elif style < 0.85:
        text = f"({area}){local}"
    else:
        text = f"{area} {local[:4]} {local[4:]}"
    if extension:
        ext = _digits(rng, _one(rng, (2, 3, 3, 4)), "123456789")
        form = rng.random()
        if form < 0.45:
            text = f"{area}-{local} 转 {ext}"
        elif form < 0.7:
            text = f"{area}-{local}-{ext}"
        elif form < 0.85:
            text = f"{area}-{local} 分机 {ext}"
        else:
            text = f"{area}-{local} ext. {ext}"
    return text


def service_number(rng: random.Random) -> str:
    prefix = "400" if rng.random() < 0.85 else "800"
    number = prefix + _digits(rng, 7)
    return f"{number[:3]}-{number[3:6]}-{number[6:]}" if rng.random() < 0.7 else number


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """(Chinese name, surname pinyin, given-name pinyin)."""
    surname, s_py = W_SURNAME.pick(rng)
    n = 1 if rng.random() < 0.3 else 2
    given = [_one(rng, GIVEN_CHARS) for _ in range(n)]
    return surname + "".join(g for g, _ in given), s_py, "".join(p for _, p in given)


def _org_code(seq: int, modern: bool) -> str:
    """Positions 9-17 of a USCC: an organisation code with its GB 11714 check character.

    The body is a bijection of the customer-code number, which the sequence never repeats,
    so no two demo customers share a USCC, across runs on the same database too."""
    if modern:  # codes issued since 2015 often read MA + 6 characters
        x = (seq * 91_815_541 + 7_654_321) % (31 ** 6)
        chars = []
        for _ in range(6):
            x, r = divmod(x, 31)
            chars.append(USCC_ALPHABET[r])
        body = "MA" + "".join(chars)
    else:
        body = f"{(seq * 73_939_133 + 12_345_679) % 10 ** 8:08d}"
    values = [int(ch) if ch.isdigit() else ord(ch) - 55 for ch in body]
    c = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2))) % 11
    return body + ("X" if c == 10 else "0" if c == 11 else str(c))


def uscc_for(seq: int, admin_code: str, kind: str, modern: bool) -> str:
    first17 = kind + admin_code + _org_code(seq, modern)
    return first17 + uscc_check_char(first17)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """A credit limit in [low, high]: mostly round figures, a few with cents (limits
    computed from turnover)."""
    if rng.random() < 0.12:
        return Decimal(f"{rng.uniform(max(low, 1000), high):.2f}")
    lo_exp = int(math.log10(max(low, 1000)))
    hi_exp = int(math.log10(high))
    value = _one(rng, (1, 1.5, 2, 3, 5, 8)) * 10 ** _int(rng, lo_exp, hi_exp)
    return Decimal(f"{min(max(value, low), high):.2f}")


_CREDIT_RANGE = {"A": (1_000_000, 20_000_000), "B": (200_000, 5_000_000), "C": (20_000, 500_000),
                 "D": (0, 50_000)}


def _address(rng: random.Random, city: tuple, district: str, core: str | None) -> str:
    region = city[0]
    prefix = "" if region in MUNICIPALITIES else PROVINCE_NAMES[region]
    city_name = "" if region in MUNICIPALITIES else city[1]
    base = f"{prefix}{city_name}{district}" if region not in MUNICIPALITIES else f"{city[1]}{district}"
    road = _one(rng, ROADS)
    number = _int(rng, 1, 999)
    if core is None:  # a home address
        return (f"{base}{road}{number}号{_one(rng, ESTATES)}{_int(rng, 1, 30)}栋"
                f"{_int(rng, 1, 4)}单元{_int(rng, 1, 33)}{_int(rng, 1, 4):02d}室")
    style = rng.random()
    if style < 0.5:
        return f"{base}{road}{number}号{core}大厦{_one(rng, 'ABCD')}座{_int(rng, 2, 40)}{_int(rng, 1, 20):02d}室"
    if style < 0.8:
        return f"{base}{road}{number}号{_int(rng, 1, 12)}栋{_int(rng, 1, 9)}{_int(rng, 1, 30):02d}室"
    return f"{base}{road}{number}号{_one(rng, ('工业园', '科技园', '产业园'))}{_int(rng, 1, 20)}号厂房"


class Weighted:
    """A weighted choice whose cumulative weights are computed once: ``random.choices``
    recomputes them on every call, which adds up at a million customers."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]):
        pairs = list(pairs)
        self.items = tuple(p[0] for p in pairs)
        self.cum = tuple(itertools.accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        i = bisect.bisect_right(self.cum, rng.random() * self.total)
        return self.items[min(i, len(self.items) - 1)]


W_SURNAME = Weighted(zip(SURNAMES, SURNAME_WEIGHTS))
W_INDUSTRY = Weighted((code, w) for code, (w, _) in INDUSTRY_WORDS.items())
W_CITY = Weighted((c, c[5]) for c in CITIES)
W_CITY_BIG = Weighted((c, c[5]) for c in CITIES[:6])
W_LEGAL = Weighted(LEGAL_FORMS)
W_TLD = Weighted(TLDS)
W_PERSONAL_MAIL = Weighted(PERSONAL_MAIL)
W_TITLE = Weighted(TITLES)
W_ACTIVITY_KIND = Weighted(ACTIVITY_KINDS)
W_ACTIVITY_COUNT = Weighted(zip((1, 2, 3, 4, 5), (40, 25, 15, 12, 8)))
W_SIZE = Weighted(zip(SIZES, SIZE_WEIGHTS))
W_SIZE_FOREIGN = Weighted(zip(SIZES, (10, 25, 30, 22, 13)))
W_TIER_SMALL = Weighted(zip(TIERS, (3, 13, 52, 32)))
W_TIER_LARGE = Weighted(zip(TIERS, (15, 30, 45, 10)))
W_TIER_FOREIGN = Weighted(zip(TIERS, (8, 25, 47, 20)))
W_TIER_PERSON = Weighted(zip(TIERS, (0, 5, 55, 40)))
W_STATUS = Weighted((("prospect", 12), ("active", 64), ("dormant", 18), ("blocked", 6)))
W_STATUS_PROSPECT_TIER = Weighted((("prospect", 70), ("active", 15), ("dormant", 13), ("blocked", 2)))
W_STATUS_PERSON = Weighted((("prospect", 35), ("active", 45), ("dormant", 17), ("blocked", 3)))
# Credit limits are set once there is business: most active and blocked customers have
# one, few prospects do.
CREDIT_SHARE = {"prospect": 0.15, "active": 0.8, "dormant": 0.6, "blocked": 0.85}


def _company_values(rng: random.Random, seq: int) -> dict[str, Any]:
    industry = W_INDUSTRY.pick(rng)
    english = industry == "T" or rng.random() < 0.05
    if english:
        return _english_company(rng, seq, industry)
    city = W_CITY.pick(rng)
    district, admin_code = _one(rng, city[4])
    (c1, p1), (c2, p2) = _one(rng, CORE_FIRST), _one(rng, CORE_SECOND)
    core, slug = c1 + c2, p1 + p2
    word = _one(rng, INDUSTRY_WORDS[industry][1])
    city_short = city[1].rstrip("市")
    if word.endswith(ASSOCIATION):
        name = f"{city[1]}{_one(rng, ASSOCIATION_TRADES)}{word}"
    elif word.endswith(_NO_LEGAL_FORM):
        name = f"{city_short}{core}{word}"
    else:
        legal = W_LEGAL.pick(rng)
        style = rng.random()
        if style < 0.68:
            name = f"{city_short}{core}{word}{legal}"
        elif style < 0.83:
            name = f"{core}{word}（{city_short}）{legal}"
        elif style < 0.93:
            province = PROVINCE_NAMES[city[0]].rstrip("省市")
            name = f"{province}{core}{word}{legal}"
        else:
            name = f"{core}{word}{legal}"
        if legal == "有限公司" and rng.random() < 0.04:
            name = f"{core}{word}{legal}{city_short}分公司"
    size = W_SIZE.pick(rng)
    large = SIZES.index(size) >= 3
    tier = (W_TIER_LARGE if large else W_TIER_SMALL).pick(rng)
    kind = "91"
    if word.endswith(ASSOCIATION):
        kind, size = "51", _one(rng, SIZES[:2])
    elif word == "医院" or word.endswith("学校"):
        kind = "52"
    elif industry == "A" and rng.random() < 0.3:
        kind = "93"
    values: dict[str, Any] = {
        "name": name, "customer_type": "company", "industry": industry, "tier": tier, "size": size,
        "region": city[0],
        "uscc": uscc_for(seq, admin_code, kind, rng.random() < 0.55) if rng.random() < 0.88 else None,
        "address": _address(rng, city, district, core) if rng.random() < 0.9 else None,
    }
    r = rng.random()
    if r < 0.45:
        values["phone"] = landline(rng, city)
    elif r < 0.55:
        values["phone"] = landline(rng, city, extension=True)
    elif r < 0.72:
        values["phone"] = mobile(rng)
    elif r < 0.82 + (0.1 if large else 0.0):
        values["phone"] = service_number(rng)
    domain = slug + W_TLD.pick(rng)
    if rng.random() < 0.7:
        values["email"] = f"{_one(rng, COMPANY_MAILBOXES)}@{domain}"
    if rng.random() < 0.9:
        cname, s_py, g_py = person_name(rng)
        values["contact_name"] = cname
        values["contact_title"] = W_TITLE.pick(rng) if rng.random() < 0.9 else None
        values["contact_phone"] = mobile(rng) if rng.random() < 0.85 else landline(rng, city, extension=True)
        r = rng.random()
        if r < 0.45:
            values["contact_email"] = f"{s_py}.{g_py}@{domain}"
        elif r < 0.6:
            values["contact_email"] = f"{g_py[:1]}{s_py}{_int(rng, 1, 99)}@{W_PERSONAL_MAIL.pick(rng)}"
    _tier_status_credit(rng, values, tier)
    return values


def _english_company(rng: random.Random, seq: int, industry: str) -> dict[str, Any]:
    first, second = _one(rng, EN_FIRST), _one(rng, EN_SECOND)
    slug = (first + second).lower().replace(" ", "")
    if industry == "T":
        name, industry_words = _one(rng, EN_ORGS), None
    else:
        industry = industry if industry in EN_INDUSTRY else "F"
        industry_words = _one(rng, EN_INDUSTRY[industry])
        name = None
    where = rng.random()
    values: dict[str, Any] = {"customer_type": "company", "industry": industry}
    size = W_SIZE_FOREIGN.pick(rng)
    if where < 0.25 and industry != "T":  # foreign-invested company registered in China
        city = W_CITY_BIG.pick(rng)
        district, admin_code = _one(rng, city[4])
        name = f"{first} {second} {industry_words} ({_city_en(city)}) Co., Ltd."
        values.update(region=city[0], uscc=uscc_for(seq, admin_code, "91", True),
                      address=_address(rng, city, district, _one(rng, CORE_FIRST)[0] + _one(rng, CORE_SECOND)[0]),
                      phone=landline(rng, city, extension=rng.random() < 0.3))
    elif where < 0.4:  # Hong Kong
        name = name or f"{first} {second} {industry_words} {_one(rng, ('Limited', 'Ltd', 'Company Limited'))}"
        values.update(region="810000", phone=_pattern(rng, HONG_KONG_PHONE),
                      address=f"{_int(rng, 1, 300)} {_one(rng, ('Queen’s Road Central', 'Nathan Road', 'Des Voeux Road', 'Canton Road'))}, Hong Kong")
    else:
        country, pattern, cities, streets = _one(rng, OVERSEAS)
        name = name or f"{first} {second} {industry_words} {_one(rng, EN_SUFFIX_OVERSEAS)}"
        values.update(region="overseas", phone=_pattern(rng, pattern),
                      address=f"{_int(rng, 1, 999)} {_one(rng, streets)}, {_one(rng, cities)}, {country}")
    values["name"] = name
    values["size"] = size
    tier = W_TIER_FOREIGN.pick(rng)
    values["tier"] = tier
    values["email"] = f"{_one(rng, ('info', 'sales', 'contact', 'procurement'))}@{slug}.com"
    if rng.random() < 0.85:
        first_name, last_name = _one(rng, EN_PEOPLE_FIRST), _one(rng, EN_PEOPLE_LAST)
        values["contact_name"] = f"{first_name} {last_name}"
        values["contact_title"] = _one(rng, EN_TITLES)
        values["contact_email"] = f"{first_name.lower()}.{_ascii(last_name).lower()}@{slug}.com"
        if values.get("region") == "overseas" or values.get("region") == "810000":
            values["contact_phone"] = mobile(rng) if rng.random() < 0.4 else values["phone"]
        else:
            values["contact_phone"] = mobile(rng)
    _tier_status_credit(rng, values, tier)
    return values


_CITY_EN = {"北京市": "Beijing", "上海市": "Shanghai", "天津市": "Tianjin", "重庆市": "Chongqing",
            "广州市": "Guangzhou", "深圳市": "Shenzhen"}


def _city_en(city: tuple) -> str:
    return _CITY_EN.get(city[1], "China")


def _ascii(text: str) -> str:
    return text.replace("ü", "ue")


def _tier_status_credit(rng: random.Random, values: dict, tier: str) -> None:
    values["status"] = (W_STATUS_PROSPECT_TIER if tier == "D" else W_STATUS).pick(rng)
    values["credit_limit"] = _money(rng, *_CREDIT_RANGE[tier]) if rng.random() < CREDIT_SHARE[values["status"]] else None
    if values["status"] == "blocked" and rng.random() < 0.7:
        values["notes"] = _one(rng, BLOCKED_NOTES)
    elif rng.random() < 0.2:
        values["notes"] = _one(rng, NOTES)


def _individual_values(rng: random.Random) -> dict[str, Any]:
    name, s_py, g_py = person_name(rng)
    city = W_CITY.pick(rng)
    district, _ = _one(rng, city[4])
    tier = W_TIER_PERSON.pick(rng)
    values: dict[str, Any] = {
        "name": name, "customer_type": "individual", "region": city[0], "tier": tier,
        "phone": mobile(rng),
        "industry": _one(rng, ("O", "F", "H")) if rng.random() < 0.2 else None,
        "address": _address(rng, city, district, None) if rng.random() < 0.6 else None,
    }
    r = rng.random()
    if r < 0.35:
        values["email"] = f"{s_py}{g_py}{_int(rng, 1, 999)}@{W_PERSONAL_MAIL.pick(rng)}"
    elif r < 0.5:
        values["email"] = f"{_digits(rng, _int(rng, 8, 10), '123456789')}@qq.com"
    values["status"] = W_STATUS_PERSON.pick(rng)
    values["credit_limit"] = Decimal(_one(rng, ("5000.00", "10000.00", "20000.00"))) if rng.random() < 0.1 else None
    if rng.random() < 0.1:
        values["notes"] = _one(rng, ("个人买家，偏好微信联系。", "老客户介绍的个人客户。", "需要开具普通发票。"))
    return values


def _activities(rng: random.Random, created_at: datetime, now: datetime, owner: str) -> tuple[dict, ...]:
    count = W_ACTIVITY_COUNT.pick(rng)
    span = max((now - created_at).total_seconds(), 60.0)
    moments = sorted(created_at + timedelta(seconds=int(rng.random() * span)) for _ in range(count))
    out = []
    for at in moments:
        kind = W_ACTIVITY_KIND.pick(rng)
        next_action = due = None
        done = False
        if rng.random() < 0.6:
            next_action = _one(rng, NEXT_ACTIONS)
            due = (at + timedelta(days=_int(rng, 1, 30))).replace(hour=1, minute=0, second=0)
            # Most past follow-ups were done; the rest are overdue tasks on the dashboard.
            done = due < now and rng.random() < 0.8
        out.append({"kind": kind, "summary": _one(rng, ACTIVITY_SUMMARIES[kind]), "occurred_at": at,
                    "next_action": next_action, "due_at": due, "done": done, "owner": owner,
                    "created_at": at, "created_by": owner, "version": 1, "deleted": False})
    return tuple(out)


def _reviewed_at(rng: random.Random, created_at: datetime, now: datetime) -> datetime:
    r = rng.random()
    if r < 0.3:  # never looked at again since it was entered
        return created_at
    span = (now - created_at).total_seconds()
    if r < 0.75:  # looked after: reviewed in the last five months
        start = max(created_at, now - timedelta(days=150))
        return start + timedelta(seconds=int(rng.random() * (now - start).total_seconds()))
    return created_at + timedelta(seconds=int(rng.random() * span))


def chunk_inputs(plan: DemoPlan, chunk: int, code_seqs: Sequence[int]) -> list[DemoCustomer]:
    """The generated input of chunk ``chunk``: a function of (seed, chunk) and the code
    numbers only (the USCC is derived from the code number, which keeps it unique)."""
    rng = random.Random(f"demo:{plan.seed}:{chunk}")
    start = chunk * plan.chunk_size
    owners = Weighted((o, o.weight) for o in plan.owners)
    out = []
    for offset, seq in enumerate(code_seqs):
        index = start + offset
        position = (index + rng.random()) / plan.total
        created_at = _created_at(plan, position)
        values = _company_values(rng, seq) if rng.random() < 0.86 else _individual_values(rng)
        if values["customer_type"] == "individual":
            values.pop("size", None)
        owner = owners.pick(rng)
        values["owner"] = owner.username
        # Who entered it: the owner, unless the record needs rights the owner lacks (a
        # credit limit) or a manager handed a new customer to a salesperson.
        creator = owner.username
        if not owner.can_assign and (values.get("credit_limit") is not None or rng.random() < 0.1):
            if plan.assigners:
                creator = _one(rng, plan.assigners)
            else:
                values["credit_limit"] = None
        values = {k: v for k, v in values.items() if v is not None}
        reviewed_at = _reviewed_at(rng, created_at, plan.now)
        reviewer = owner.username if reviewed_at > created_at else creator
        acts = ()
        if plan.activities and rng.random() < 0.22:
            acts = _activities(rng, created_at, plan.now, owner.username)
        out.append(DemoCustomer(index, values, created_at, creator, reviewed_at, reviewer, acts))
    return out


def iter_inputs(plan: DemoPlan, code_seqs: Sequence[int]) -> Iterator[DemoCustomer]:
    """Every generated input for ``code_seqs`` (one per customer, in index order)."""
    for chunk in range(math.ceil(len(code_seqs) / plan.chunk_size)):
        lo = chunk * plan.chunk_size
        yield from chunk_inputs(plan, chunk, code_seqs[lo:lo + plan.chunk_size])


# -- building rows (runs in the workers) ----------------------------------------------------
_WORKER_PLAN: DemoPlan | None = None


def _init_worker(plan: DemoPlan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    _memoize_pinyin_segments()
    _memoize_email_syntax()


def _memoize_pinyin_segments() -> None:
    """Worker processes only: remember pypinyin's conversion of each word segment.

    ``lib.core.text.pinyin_keys`` caches whole names, but demo names are nearly all distinct
    while their segments (city, core, industry word, legal form) repeat endlessly.
    The conversion of a segment is a pure function of its arguments, so the memo returns
    exactly what pypinyin would (tests compare a worker-built load with an in-process
    one); it cuts the largest single cost of building a customer by about three quarters.
    The parent process and the app never get this patch."""
    from pypinyin.converter import UltimateConverter

    original = UltimateConverter.convert
    if getattr(original, "_demo_memo", False):
        return
    memo: dict = {}

    def convert(self, words, style, heteronym, errors, strict, **kwargs):
        if kwargs or len(memo) > 200_000:
            return original(self, words, style, heteronym, errors, strict, **kwargs)
        key = (words, style, heteronym, errors, strict, self._v_to_u, self._neutral_tone_with_five,
               self._tone_sandhi)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = original(self, words, style, heteronym, errors, strict)
        return [list(item) for item in hit]

    convert._demo_memo = True
    UltimateConverter.convert = convert


def _memoize_email_syntax() -> None:
    """Worker processes only, like the pinyin memo: a company's mailboxes (info@, sales@
    of one domain) recur thousands of times in a million customers, and the syntax check
    without a network look-up is a pure function of the text. Failures are not
    remembered, so they raise exactly as before."""
    from lib.customers import kinds  # the email kind's syntax check lives there

    original = kinds.validate_email
    if getattr(original, "_demo_memo", False):
        return
    memo: dict = {}

    def validate_email(text, **kwargs):
        key = (text, tuple(sorted(kwargs.items())))
        hit = memo.get(key)
        if hit is None:
            hit = original(text, **kwargs)
            if len(memo) < 200_000:
                memo[key] = hit
        return hit

    validate_email._demo_memo = True
    kinds.validate_email = validate_email


def _validated(ctx: ValidationContext, rng: random.Random, item: DemoCustomer):
    """Validate like the form does. The generator only makes valid numbers, but if
    phonenumbers' metadata ever disagrees, replace the phone with a mobile rather than
    load a record the form would have questioned."""
    values = item.values
    for _ in range(5):
        try:
            return validate_customer(values, ctx), values
        except (ConfirmationRequired, ValidationError) as exc:
            fields = {p.field for p in exc.problems}
            if not fields <= {"phone", "contact_phone"}:
                raise
            values = dict(values, **{f: mobile(rng) for f in fields})
    raise AssertionError("generated phone numbers keep failing validation")


def build_chunk(plan: DemoPlan, chunk: int, customer_ids: Sequence[int], code_seqs: Sequence[int],
                contact_ids: Sequence[int], audit_ids: Sequence[int]) -> dict[str, Any]:
    """Validate and build one chunk; returns Arrow tables ready to insert."""
    ctx = ValidationContext(lists=plan.lists, usernames=plan.usernames)
    fix_rng = random.Random(f"demo-fix:{plan.seed}:{chunk}")
    items = chunk_inputs(plan, chunk, code_seqs)
    customers, contacts, audits, activities = [], [], [], []
    for k, item in enumerate(items):
        clean, _ = _validated(ctx, fix_rng, item)
        code = cs.format_code(int(code_seqs[k]), item.created_at, plan.settings)
        row, contact, audit = cs.build_rows(
            clean, customer_id=int(customer_ids[k]), code=code, contact_id=int(contact_ids[k]),
            audit_id=int(audit_ids[k]), actor=item.created_by, now=item.created_at)
        row.update(updated_at=item.reviewed_at, updated_by=item.reviewed_by, reviewed_at=item.reviewed_at)
        customers.append(row)
        if contact:
            contacts.append(contact)
        audits.append(audit)
        for act in item.activities:
            activities.append(dict(act, id=0, customer_id=row["id"]))
    return {
        "chunk": chunk,
        "customers": _table(customers, CUSTOMER_SCHEMA),
        "contacts": _table(contacts, CONTACT_SCHEMA),
        "audit": _table(audits, AUDIT_SCHEMA),
        "activities": _table(activities, ACTIVITY_SCHEMA),
        "first_code": customers[0]["code"] if customers else None,
        "last_code": customers[-1]["code"] if customers else None,
    }


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.table({name: pa.array([r[name] for r in rows], type=schema.field(name).type)
                     for name in schema.names}, schema=schema)


def _build_task(task: tuple) -> dict[str, Any]:
    assert _WORKER_PLAN is not None
    return build_chunk(_WORKER_PLAN, *task)


# -- the main process -----------------------------------------------------------------------
def _reserve(cur, sequence: str, n: int) -> list[int]:
    """n numbers from a sequence in one statement; sorted, since a parallel scan may
    hand them out of order."""
    res = cur.execute(f"SELECT nextval('{sequence}') AS v FROM range(?)", [n]).fetchnumpy()["v"]
    return sorted(res.tolist())


def _insert(cur, table: str, tbl: pa.Table) -> None:
    if tbl.num_rows == 0:
        return
    cols = ", ".join(tbl.column_names)
    cur.register("_demo_batch", tbl)
    try:
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _demo_batch")
    finally:
        # In an aborted transaction this raises too; the insert's own error matters.
        with contextlib.suppress(duckdb.Error):
            cur.unregister("_demo_batch")


def generate(db, customers: int, seed: int = 42, activities: bool = True,
             progress: Callable[[int, int], None] | None = None, *, now: datetime | None = None,
             workers: int | None = None, chunk_size: int = CHUNK_SIZE) -> DemoStats:
    """Generate ``customers`` demo customers (with contacts, audit entries and follow-up
    records) and load them in transactions of ``COMMIT_EVERY`` customers. Each customer
    is stored whole (row, contact, audit entry) or not at all; an interrupted load keeps
    the transactions committed before it.

    The same seed, count, ``now`` and database state give identical rows, whatever
    ``workers`` is. ``progress(done, total)`` is called after each chunk."""
    started = time.monotonic()
    stats = DemoStats()
    if customers <= 0:
        return stats
    plan = make_plan(db, customers, seed, now=now, activities=activities, chunk_size=chunk_size)
    with db.read() as cur:
        customer_ids = _reserve(cur, "customer_id_seq", customers)
        code_seqs = _reserve(cur, "customer_code_seq", customers)
        contact_ids = _reserve(cur, "contact_id_seq", customers)
        audit_ids = _reserve(cur, "audit_id_seq", customers)
    n_chunks = math.ceil(customers / chunk_size)
    tasks = []
    for chunk in range(n_chunks):
        lo, hi = chunk * chunk_size, min((chunk + 1) * chunk_size, customers)
        tasks.append((chunk, customer_ids[lo:hi], code_seqs[lo:hi], contact_ids[lo:hi], audit_ids[lo:hi]))
    del customer_ids, code_seqs, contact_ids, audit_ids
    workers = workers if workers is not None else (2 if n_chunks > 1 else 1)
    workers = max(1, min(workers, n_chunks))
    stats.workers = workers

    cur = db.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        done = uncommitted = 0
        for result in _results(plan, tasks, workers):
            _insert(cur, "customers", result["customers"])
            _insert(cur, "contacts", result["contacts"])
            _insert(cur, "audit_log", result["audit"])
            acts = result["activities"]
            if acts.num_rows:
                ids = _reserve(cur, "activity_id_seq", acts.num_rows)
                acts = acts.set_column(acts.schema.get_field_index("id"), "id", pa.array(ids, pa.int64()))
                _insert(cur, "activities", acts)
            stats.customers += result["customers"].num_rows
            stats.contacts += result["contacts"].num_rows
            stats.activities += acts.num_rows
            stats.first_code = stats.first_code or result["first_code"]
            stats.last_code = result["last_code"] or stats.last_code
            done += result["customers"].num_rows
            uncommitted += result["customers"].num_rows
            if uncommitted >= COMMIT_EVERY:
                cur.execute("COMMIT")
                cur.execute("BEGIN TRANSACTION")
                uncommitted = 0
            if progress:
                progress(done, customers)
        cur.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # the original error matters more
            cur.execute("ROLLBACK")
        raise
    finally:
        cur.close()
    with db.read() as cur:
        # Fold the load into the file now rather than on the next start.
        cur.execute("CHECKPOINT")
    stats.seconds = time.monotonic() - started
    return stats


def _results(plan: DemoPlan, tasks: list[tuple], workers: int) -> Iterable[dict[str, Any]]:
    """Built chunks in order. With workers, at most two chunks per worker wait in memory,
    so a million customers never sit in the parent at once."""
    if workers == 1:
        for task in tasks:
            yield build_chunk(plan, *task)
        return
    # spawn, not fork: the parent holds an open DuckDB connection and its threads. An
    # executor (unlike multiprocessing.Pool) fails loudly if a worker dies.
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                                initargs=(plan,)) as pool:
        pending: collections.deque = collections.deque()
        queue = iter(tasks)
        try:
            for task in itertools.islice(queue, 2 * workers):
                pending.append(pool.submit(_build_task, task))
            while pending:
                result = pending.popleft().result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.submit(_build_task, nxt))
                yield result
        finally:
            for future in pending:
                future.cancel()
