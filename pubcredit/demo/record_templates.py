"""What the demo city's records and list entries are made of (pubcredit.demo.records draws from it):

- `PENALTIES`: the kinds of 行政处罚 each department decides (违法行为类型, 违法事实, 处罚依据, the
  处罚类别 choices, the range of the fine) and `LICENCES`: the kinds of 行政许可 (文书, 证书, 许可编号
  pattern, validity), each for some subject kinds and, through `match`, for the trades a name
  says (a restaurant gets a catering licence, a chemical plant an emission penalty);
- the list entries: the weights of the red lists, who gets on them, the black lists that follow a
  serious penalty of their department, the document-number prefixes and the reasons.

Data only: changing it changes the generated demo (see the determinism note in demo.records).
"""

from __future__ import annotations

from dataclasses import dataclass

ORG, IND, PERSON = "org", "ind", "person"
BUSINESS = (ORG, IND)
# What a name says about a trade (the register's 行业 words and shop types, generate.py), so that
# a restaurant gets a catering licence and a chemical plant an emission penalty.
FOOD = (
    "餐|饭|小吃|烧烤|面馆|水饺|包子|快餐|煎饼|馒头|熟食|豆腐|超市|便利|百货|副食|水果|蔬菜|粮油|"
    "烟酒|茶叶|调料|酱菜|食品|酒店|农副产品|果蔬"
)
CATERING = "餐|饭|小吃|烧烤|面馆|水饺|包子|快餐|煎饼|馒头|熟食|豆腐|酒店"
RETAIL = FOOD + "|五金|日用品|文具|服装|鞋店|手机|家电|眼镜|家具|窗帘|布艺|电动车|商贸|贸易|工贸"
INDUSTRY = (
    "化工|陶瓷|琉璃|制药|机械|建材|耐火|钢铁|铸造|橡胶|铝业|玻璃|热电|石油|新材料|塑料|印刷|"
    "包装|纺织|不锈钢|轴承|泵业|阀门|管道|电气|电力|新能源|汽车配件|饲料|化肥|生物科技"
)
BUILDING = "建筑|建设|房地产|置业|装饰|工程|门窗"
TRANSPORT = "物流|运输|供应链|搬家"
MEDICAL = "卫生院|卫生服务|医药|医疗|诊所|口腔|康复|制药"
HYGIENE = "理发|美发|美容|酒店|宾馆|洗浴|沐浴|游泳"
FARMING = "农资|农业|种植|合作社|化肥|农副|养殖|畜牧|饲料|果品"
LEISURE = "娱乐|文化|传媒|体育|俱乐部"


@dataclass(frozen=True)
class Penalty:
    """A kind of 行政处罚 a department decides. `outcomes`: (处罚类别, weight) choices, values of
    the catalogue's penalty_type code list. `fine`: log-uniform range of the fine in 万元. In
    `facts`, {检查日期} and {货值} are filled per record."""

    department: str
    prefix: str
    violation: str
    facts: str
    basis: str
    kinds: tuple[str, ...]
    weight: float
    outcomes: tuple[tuple[tuple[str, ...], float], ...]
    fine: tuple[float, float] = (0.1, 1.0)
    goods: str = "违法经营的物品"
    licence: str = "许可证"
    match: str = ""  # a regex an organisation's name must contain (persons: any)


PENALTIES: tuple[Penalty, ...] = (
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "经营超过保质期的食品",
        "{检查日期},执法人员检查发现当事人经营场所内待售的预包装食品已超过保质期,货值金额{货值}元。",
        "《中华人民共和国食品安全法》第三十四条第(十)项、第一百二十四条第一款第(五)项",
        BUSINESS,
        6.0,
        (
            (("没收违法所得", "罚款"), 0.78),
            (("警告",), 0.17),
            (("没收违法所得", "罚款", "吊销许可证件"), 0.05),
        ),
        (0.5, 10.0),
        "超过保质期的食品",
        "食品经营许可证",
        match=FOOD,
    ),
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "未按规定明码标价",
        "{检查日期},执法人员检查发现当事人经营场所内销售的商品未按规定明码标价。",
        "《中华人民共和国价格法》第十三条、第四十二条;《明码标价和禁止价格欺诈规定》第二十一条",
        BUSINESS,
        4.0,
        ((("警告",), 0.6), (("罚款",), 0.4)),
        (0.05, 0.5),
        match=RETAIL + "|理发|美发|美容|修车|洗车|汽车修理|干洗|照相",
    ),
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "使用未经定期检验的特种设备(电梯)",
        "{检查日期},执法人员检查发现当事人使用的电梯超过定期检验有效期仍继续投入使用。",
        "《中华人民共和国特种设备安全法》第四十条、第八十四条第(一)项",
        (ORG,),
        2.0,
        ((("罚款",), 1.0),),
        (3.0, 30.0),
    ),
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "发布虚假广告",
        "当事人通过其微信公众号发布含有虚假内容的商品广告,广告费用{货值}元。",
        "《中华人民共和国广告法》第二十八条、第五十五条第一款",
        BUSINESS,
        1.5,
        ((("罚款",), 1.0),),
        (1.0, 50.0),
    ),
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "销售不符合保障人体健康和人身、财产安全的国家标准的产品",
        "经监督抽查检验,当事人销售的电动自行车充电器不符合国家标准,货值金额{货值}元。",
        "《中华人民共和国产品质量法》第十三条、第四十九条",
        BUSINESS,
        2.0,
        ((("没收违法所得", "罚款"), 0.8), (("没收非法财物", "罚款"), 0.2)),
        (0.5, 20.0),
        "不合格的电动自行车充电器",
        match="电动车|五金|百货|超市|商贸|贸易|电子|电气|机电|家电",
    ),
    Penalty(
        "ZB-SCJG",
        "淄市监罚",
        "未依法取得营业执照从事经营活动",
        "{检查日期},执法人员检查发现当事人未依法取得营业执照,擅自从事经营活动。",
        "《无证无照经营查处办法》第二条、第十三条",
        (PERSON,),
        1.0,
        ((("警告",), 0.5), (("罚款",), 0.5)),
        (0.05, 1.0),
    ),
    Penalty(
        "ZB-STHJ",
        "淄环罚",
        "超过大气污染物排放标准排放大气污染物",
        "{检查日期},执法人员现场检查并经监测,当事人废气排放口颗粒物排放浓度超过"
        "《区域性大气污染物综合排放标准》规定的限值。",
        "《中华人民共和国大气污染防治法》第十八条、第九十九条第(二)项",
        (ORG,),
        2.5,
        ((("罚款",), 0.85), (("罚款", "责令停产停业"), 0.15)),
        (10.0, 100.0),
        match=INDUSTRY,
    ),
    Penalty(
        "ZB-STHJ",
        "淄环罚",
        "未依法报批建设项目环境影响评价文件擅自开工建设",
        "当事人的技术改造项目未依法报批建设项目环境影响评价文件,擅自开工建设。",
        "《中华人民共和国环境影响评价法》第二十五条、第三十一条第一款",
        (ORG,),
        1.5,
        ((("罚款",), 1.0),),
        (5.0, 50.0),
        match=INDUSTRY,
    ),
    Penalty(
        "ZB-STHJ",
        "淄环罚",
        "未按照国家有关规定贮存危险废物",
        "{检查日期},执法人员现场检查发现当事人将废矿物油等危险废物露天堆放,未设置危险废物识别标志。",
        "《中华人民共和国固体废物污染环境防治法》第八十一条、第一百一十二条第一款第(六)项",
        (ORG,),
        1.0,
        ((("罚款",), 1.0),),
        (10.0, 100.0),
        match=INDUSTRY + "|汽车修理|修车",
    ),
    Penalty(
        "ZB-YJGL",
        "淄应急罚",
        "未按照规定对从业人员进行安全生产教育和培训",
        "{检查日期},执法人员检查发现当事人未按规定对新上岗从业人员进行安全生产教育和培训。",
        "《中华人民共和国安全生产法》第二十八条、第九十七条第(三)项",
        (ORG,),
        2.0,
        ((("罚款",), 1.0),),
        (1.0, 10.0),
        match=INDUSTRY + "|" + BUILDING + "|" + TRANSPORT,
    ),
    Penalty(
        "ZB-YJGL",
        "淄应急罚",
        "未采取措施消除事故隐患",
        "当事人对执法检查发现的事故隐患未在规定期限内采取措施消除。",
        "《中华人民共和国安全生产法》第四十一条、第一百零二条",
        (ORG,),
        1.5,
        ((("罚款",), 0.85), (("罚款", "责令停产停业"), 0.15)),
        (1.0, 5.0),
        match=INDUSTRY + "|" + TRANSPORT,
    ),
    Penalty(
        "ZB-XFZD",
        "淄消行罚决字",
        "消防设施、器材未保持完好有效",
        "{检查日期},消防救援机构检查发现当事人场所内室内消火栓无水、火灾自动报警系统故障。",
        "《中华人民共和国消防法》第十六条第一款第(二)项、第六十条第一款第(一)项",
        BUSINESS,
        2.5,
        ((("罚款",), 1.0),),
        (0.5, 5.0),
    ),
    Penalty(
        "ZB-XFZD",
        "淄消行罚决字",
        "占用、堵塞、封闭疏散通道、安全出口",
        "{检查日期},消防救援机构检查发现当事人场所的安全出口被锁闭、疏散通道堆放杂物。",
        "《中华人民共和国消防法》第二十八条、第六十条第一款第(三)项",
        BUSINESS,
        1.5,
        ((("罚款",), 1.0),),
        (0.5, 5.0),
    ),
    Penalty(
        "ZB-XFZD",
        "淄消行罚决字",
        "占用、堵塞、封闭疏散通道、安全出口",
        "{检查日期},消防救援机构检查发现当事人在住宅楼疏散通道内停放电动自行车并充电。",
        "《中华人民共和国消防法》第二十八条、第六十条第二款",
        (PERSON,),
        1.0,
        ((("警告",), 0.5), (("罚款",), 0.5)),
        (0.01, 0.05),
    ),
    Penalty(
        "ZB-GAJ",
        "淄公行罚决字",
        "殴打他人",
        "{检查日期},违法行为人因琐事与他人发生争执并殴打他人,致一人轻微伤。",
        "《中华人民共和国治安管理处罚法》第四十三条第一款",
        (PERSON,),
        1.5,
        ((("行政拘留", "罚款"), 0.6), (("行政拘留",), 0.4)),
        (0.02, 0.05),
    ),
    Penalty(
        "ZB-GAJ",
        "淄公行罚决字",
        "未按规定登记住宿旅客信息",
        "{检查日期},民警检查发现当事人经营的旅馆未按规定如实登记住宿旅客身份信息。",
        "《旅馆业治安管理办法》第六条、第十五条",
        BUSINESS,
        0.7,
        ((("警告",), 0.4), (("罚款",), 0.6)),
        (0.02, 0.5),
        match="酒店|宾馆|旅馆",
    ),
    Penalty(
        "ZB-ZJJ",
        "淄建罚",
        "未取得施工许可证擅自施工",
        "当事人建设的项目未取得建筑工程施工许可证即擅自开工建设。",
        "《中华人民共和国建筑法》第七条、第六十四条;《建筑工程施工许可管理办法》第十二条",
        (ORG,),
        1.5,
        ((("罚款",), 1.0),),
        (1.0, 20.0),
        match=BUILDING,
    ),
    Penalty(
        "ZB-ZJJ",
        "淄建罚",
        "施工现场扬尘污染防治措施不到位",
        "{检查日期},执法人员检查发现当事人施工现场裸露土方未覆盖、出入车辆未冲洗。",
        "《中华人民共和国大气污染防治法》第六十九条、第一百一十五条第一款",
        (ORG,),
        1.0,
        ((("罚款",), 1.0),),
        (1.0, 10.0),
        match=BUILDING,
    ),
    Penalty(
        "ZB-SWU",
        "淄税简罚",
        "未按照规定期限办理纳税申报和报送纳税资料",
        "当事人未按照规定期限办理增值税纳税申报和报送纳税资料。",
        "《中华人民共和国税收征收管理法》第二十五条、第六十二条",
        BUSINESS,
        4.0,
        ((("罚款",), 1.0),),
        (0.005, 0.2),
    ),
    Penalty(
        "ZB-SWU",
        "淄税稽罚",
        "偷税",
        "当事人采取在账簿上多列支出、少列收入的手段,少缴增值税及企业所得税共计{货值}元。",
        "《中华人民共和国税收征收管理法》第六十三条第一款",
        (ORG,),
        0.6,
        ((("罚款",), 1.0),),
        (5.0, 300.0),
    ),
    Penalty(
        "ZB-RSJ",
        "淄人社监罚",
        "违反国家有关工作时间和休息休假规定延长劳动者工作时间",
        "{检查日期},劳动保障监察机构检查发现当事人安排劳动者延长工作时间超过法定标准。",
        "《中华人民共和国劳动法》第四十一条;《劳动保障监察条例》第二十五条",
        (ORG,),
        1.0,
        ((("警告",), 0.3), (("罚款",), 0.7)),
        (0.1, 1.0),
        match=INDUSTRY + "|劳务|人力资源|物流|物业|餐饮",
    ),
    Penalty(
        "ZB-JTYS",
        "淄交执罚",
        "未取得道路运输经营许可,擅自从事道路普通货物运输经营",
        "{检查日期},执法人员检查发现当事人未取得道路运输经营许可,擅自从事道路普通货物运输经营。",
        "《中华人民共和国道路运输条例》第二十一条、第六十三条",
        (ORG, IND, PERSON),
        1.5,
        ((("没收违法所得", "罚款"), 0.5), (("罚款",), 0.5)),
        (0.3, 1.0),
        match=TRANSPORT,
    ),
    Penalty(
        "ZB-JTYS",
        "淄交执罚",
        "车辆超限运输",
        "{检查日期},当事人的货运车辆经检测车货总质量超过限定标准,在公路上行驶。",
        "《公路安全保护条例》第三十三条、第六十四条",
        (ORG, IND, PERSON),
        1.5,
        ((("罚款",), 1.0),),
        (0.02, 3.0),
        match=TRANSPORT + "|建材|钢铁|铝业",
    ),
    Penalty(
        "ZB-CSGL",
        "淄综执罚",
        "未经批准擅自设置户外广告设施",
        "{检查日期},执法人员检查发现当事人未经批准在临街建筑物外墙设置户外广告设施。",
        "《城市市容和环境卫生管理条例》第十一条、第三十六条",
        BUSINESS,
        1.5,
        ((("罚款",), 1.0),),
        (0.05, 0.5),
    ),
    Penalty(
        "ZB-CSGL",
        "淄综执罚",
        "随意倾倒建筑垃圾",
        "{检查日期},执法人员发现当事人将装修产生的建筑垃圾倾倒在城市道路旁。",
        "《城市建筑垃圾管理规定》第十五条、第二十六条",
        (PERSON,),
        1.0,
        ((("罚款",), 1.0),),
        (0.005, 0.02),
    ),
    Penalty(
        "ZB-WJW",
        "淄卫医罚",
        "使用非卫生技术人员从事医疗卫生技术工作",
        "{检查日期},卫生监督员检查发现当事人使用未取得执业资格的人员从事诊疗活动。",
        "《医疗机构管理条例》第二十七条、第四十七条",
        (ORG,),
        1.0,
        ((("罚款",), 0.7), (("没收违法所得", "罚款"), 0.3)),
        (0.5, 1.0),
        match=MEDICAL,
    ),
    Penalty(
        "ZB-WJW",
        "淄卫公罚",
        "未按照规定对公共场所进行卫生检测",
        "{检查日期},卫生监督员检查发现当事人未按照规定对公共场所的空气、微小气候进行卫生检测。",
        "《公共场所卫生管理条例实施细则》第十九条、第三十六条",
        BUSINESS,
        1.0,
        ((("警告",), 0.6), (("警告", "罚款"), 0.4)),
        (0.1, 0.2),
        match=HYGIENE,
    ),
    Penalty(
        "ZB-ZRZY",
        "淄自然资罚",
        "未经批准非法占用土地建设",
        "当事人未经批准,擅自占用集体土地建设厂房,占地面积与非法所得经测绘确认。",
        "《中华人民共和国土地管理法》第四十四条、第七十七条第一款",
        (ORG, IND, PERSON),
        1.0,
        ((("没收非法财物", "罚款"), 0.4), (("罚款",), 0.6)),
        (1.0, 30.0),
        "非法占用土地上新建的建筑物和其他设施",
        match=INDUSTRY + "|" + FARMING + "|实业|置业",
    ),
    Penalty(
        "ZB-NYNC",
        "淄农罚",
        "经营假农药",
        "经抽样检验,当事人经营的农药所含有效成分种类与标签标注不符,货值金额{货值}元。",
        "《农药管理条例》第四十四条、第五十五条第一款",
        BUSINESS,
        1.0,
        ((("没收违法所得", "没收非法财物", "罚款"), 1.0),),
        (0.5, 5.0),
        "假农药",
        match=FARMING,
    ),
    Penalty(
        "ZB-WLJ",
        "淄文旅罚",
        "娱乐场所未按照规定悬挂未成年人禁入标志",
        "{检查日期},执法人员检查发现当事人经营的娱乐场所未在显著位置悬挂未成年人禁入标志。",
        "《娱乐场所管理条例》第三十条、第四十九条",
        BUSINESS,
        0.7,
        ((("警告",), 0.7), (("警告", "罚款"), 0.3)),
        (0.5, 1.0),
        match=LEISURE,
    ),
)


@dataclass(frozen=True)
class Licence:
    """A kind of 行政许可. In `number` (许可编号) {region} {uscc} {year} {ymd} {seq4} {seq5}
    {seq6} are filled per record; `years` None means 长期."""

    department: str
    prefix: str
    title: str
    category: str
    certificate: str
    number: str
    contents: tuple[str, ...]
    years: int | None
    kinds: tuple[str, ...]
    weight: float
    match: str = ""  # a regex an organisation's name must contain (persons: any)


LICENCES: tuple[Licence, ...] = (
    Licence(
        "ZB-XZSP",
        "淄审批食许",
        "食品经营许可决定书",
        "普通",
        "食品经营许可证",
        "JY1{region}{seq6}",
        ("预包装食品(含冷藏冷冻食品)销售;散装食品(不含冷藏冷冻食品)销售", "预包装食品销售"),
        5,
        BUSINESS,
        6.0,
        match=FOOD,
    ),
    Licence(
        "ZB-XZSP",
        "淄审批食许",
        "食品经营许可决定书",
        "普通",
        "食品经营许可证",
        "JY2{region}{seq6}",
        ("热食类食品制售;冷食类食品制售", "热食类食品制售", "糕点类食品(含裱花蛋糕)制售"),
        5,
        BUSINESS,
        5.0,
        match=CATERING + "|餐饮",
    ),
    Licence(
        "ZB-XZSP",
        "淄审批运许",
        "道路运输经营许可决定书",
        "普通",
        "道路运输经营许可证",
        "鲁交运管许可淄字{region}{seq6}号",
        ("道路普通货物运输", "道路普通货物运输;货物专用运输(集装箱)"),
        4,
        (ORG, IND, PERSON),
        2.5,
        match=TRANSPORT,
    ),
    Licence(
        "ZB-XZSP",
        "淄审批药许",
        "药品经营许可决定书",
        "普通",
        "药品经营许可证",
        "鲁AA533{seq4}",
        ("处方药、甲类非处方药、乙类非处方药:中成药、化学药制剂、抗生素制剂、生化药品",),
        5,
        BUSINESS,
        1.2,
        match="医药|制药|诊所|卫生院|医疗",
    ),
    Licence(
        "ZB-XZSP",
        "淄审批建许",
        "建筑工程施工许可决定书",
        "普通",
        "建筑工程施工许可证",
        "{region}{ymd}{seq4}01",
        ("新建厂房及配套设施工程", "住宅小区建设工程", "办公楼装修改造工程"),
        3,
        (ORG,),
        2.0,
        match=BUILDING + "|" + INDUSTRY + "|实业",
    ),
    Licence(
        "ZB-XZSP",
        "淄审批卫许",
        "公共场所卫生许可决定书",
        "普通",
        "卫生许可证",
        "淄卫公证字〔{year}〕第{region}{seq4}号",
        ("住宿业", "美容美发场所", "沐浴场所", "游泳场所"),
        4,
        BUSINESS,
        2.0,
        match=HYGIENE,
    ),
    Licence(
        "ZB-XZSP",
        "淄审批医许",
        "医疗机构执业许可决定书",
        "普通",
        "医疗机构执业许可证",
        "PDY{seq5}{region}1{seq4}",
        ("内科;外科;预防保健科;中医科", "口腔科", "全科医疗科;中医科"),
        5,
        (ORG, IND),
        0.8,
        match=MEDICAL,
    ),
    Licence(
        "ZB-STHJ",
        "淄环许",
        "排污许可决定书",
        "普通",
        "排污许可证",
        "{uscc}001P",
        ("大气污染物:颗粒物、二氧化硫、氮氧化物;水污染物:化学需氧量、氨氮",),
        5,
        (ORG,),
        1.5,
        match=INDUSTRY,
    ),
    Licence(
        "ZB-YJGL",
        "淄应急危化经许",
        "危险化学品经营许可决定书",
        "普通",
        "危险化学品经营许可证",
        "鲁淄危化经字〔{year}〕{seq6}号",
        ("不带储存经营:汽油、柴油、甲醇、乙醇", "不带储存经营:盐酸、硫酸、氢氧化钠"),
        3,
        (ORG,),
        0.8,
        match="化工|石油",
    ),
    Licence(
        "ZB-SCJG",
        "淄市监特登",
        "特种设备使用登记决定书",
        "登记",
        "特种设备使用登记证",
        "梯11鲁C{seq5}({yy})",
        ("曳引驱动乘客电梯", "自动扶梯", "承压蒸汽锅炉"),
        None,
        (ORG,),
        1.5,
    ),
    Licence(
        "ZB-SCJG",
        "淄市监特作",
        "特种设备作业人员资格认定决定书",
        "认可",
        "特种设备安全管理和作业人员证",
        "鲁C{year}{seq6}",
        ("叉车司机(N1)", "电梯修理(T)", "工业锅炉司炉(G1)"),
        4,
        (PERSON,),
        1.0,
    ),
    Licence(
        "ZB-ZJJ",
        "淄建特作",
        "建筑施工特种作业人员资格认定决定书",
        "认可",
        "建筑施工特种作业操作资格证书",
        "鲁{year}03{seq6}",
        ("建筑电工", "建筑架子工(普通脚手架)", "建筑起重信号司索工"),
        2,
        (PERSON,),
        1.0,
    ),
    Licence(
        "ZB-WLJ",
        "淄文旅娱许",
        "娱乐经营许可决定书",
        "普通",
        "娱乐经营许可证",
        "{region}{seq6}",
        ("歌舞娱乐场所", "游艺娱乐场所"),
        2,
        BUSINESS,
        0.5,
        match=LEISURE,
    ),
)

# Red lists: weights among the red types that exist; 3A级以上社会组织 only for 社会团体 (51) and
# 民办非企业单位 (52).
RED_WEIGHTS = {
    "RED_TAX_A": 5.0,
    "RED_CONTRACT": 2.0,
    "RED_FOOD_SD": 1.5,
    "RED_HOUDAO_LUSHANG": 1.0,
    "RED_INTEGRITY_MODEL": 1.0,
    "RED_LABOUR_A": 1.0,
    "RED_CUSTOMS_AEO": 0.3,
    "RED_CONSTRUCTION": 1.0,
    "RED_SOCIAL_ORG_3A": 0.5,
    "RED_ENV_GREEN": 1.0,
    "RED_HOUSEKEEPING": 0.5,
    "RED_INTEGRITY_PERSON": 1.5,
}
RED_CATEGORIES = {"RED_SOCIAL_ORG_3A": ("51", "52")}
# Who gets on a red list, by 机构类别 ("" = natural person).
RED_SUBJECT_WEIGHT = {
    "91": 1.0,
    "92": 0.4,
    "93": 0.3,
    "12": 0.1,
    "52": 0.6,
    "51": 0.6,
    "11": 0.0,
    "N2": 0.05,
    "N3": 0.05,
    "": 0.03,
}
# Black lists that follow a serious penalty of their department (the rest of the black entries
# are 失信被执行人, identified by the court).
BLACK_AFTER_PENALTY = {
    "ZB-SCJG": "BLK_FOOD_DRUG",
    "ZB-YJGL": "BLK_WORK_SAFETY",
    "ZB-STHJ": "BLK_ENVIRONMENT",
    "ZB-SWU": "BLK_TAX_MAJOR",
    "ZB-RSJ": "BLK_WAGE_ARREARS",
}
COURT_LIST = "BLK_JUDGMENT_DEFAULTER"
ENTRY_PREFIX = {
    "RED_TAX_A": "淄税信",
    "RED_FOOD_SD": "淄食安办",
    "RED_HOUDAO_LUSHANG": "淄商字",
    "RED_INTEGRITY_MODEL": "淄信用办",
    "RED_CONTRACT": "淄市监信",
    "RED_LABOUR_A": "淄人社信",
    "RED_CUSTOMS_AEO": "淄关认证",
    "RED_CONSTRUCTION": "淄建信",
    "RED_SOCIAL_ORG_3A": "淄民评",
    "RED_ENV_GREEN": "淄环信",
    "RED_HOUSEKEEPING": "淄商服",
    "RED_INTEGRITY_PERSON": "淄文明办",
    "BLK_FOOD_DRUG": "淄市监严失",
    "BLK_WORK_SAFETY": "淄应急失信",
    "BLK_ENVIRONMENT": "淄环失信",
    "BLK_TAX_MAJOR": "淄税失信",
    "BLK_WAGE_ARREARS": "淄人社失信",
}
RED_REASON = {
    "RED_TAX_A": "年度纳税信用评价为A级",
    "RED_FOOD_SD": "经评审认定为食安山东示范单位",
    "RED_HOUDAO_LUSHANG": "经评审认定为厚道鲁商品牌企业",
    "RED_INTEGRITY_MODEL": "经评选认定为诚信示范企业",
    "RED_CONTRACT": "经公示认定为守合同重信用企业",
    "RED_LABOUR_A": "劳动保障守法诚信等级评价为A级",
    "RED_CUSTOMS_AEO": "经海关认证为高级认证企业",
    "RED_CONSTRUCTION": "年度建筑市场信用评价优良",
    "RED_SOCIAL_ORG_3A": "社会组织评估等级为3A级以上",
    "RED_ENV_GREEN": "年度企业环境信用评价为环保诚信企业",
    "RED_HOUSEKEEPING": "经评选认定为家政服务诚信示范企业",
    "RED_INTEGRITY_PERSON": "经评选认定为诚信道德模范和身边好人",
}
