"""The measure words and units of Chinese reports, in families: what a number in a passage or table counts."""

# A question's unit is answered by its family (多少钱 by 万元 or 美元, 多大面积 by 亩 or 平方米). General Chinese,
# not any report's wording.
UNIT_FAMILIES = {
    "area": ("平方公里", "平方千米", "平方米", "公顷", "亩"),
    "money": ("美元", "元"),
    "people": ("人次", "人", "名", "位", "户"),
    "count": ("个", "项", "件", "家", "次", "场", "所", "座", "条", "套", "台", "辆", "处", "批", "支", "张", "份", "起",
              "例", "部", "本", "块", "片", "株", "棵", "头", "只", "口", "眼", "盏", "栋", "间", "笔", "宗", "期", "轮", "届"),
    "length": ("公里", "千米", "米", "厘米", "毫米"),  # 毫米 of rain too (单日最大降雨量达186毫米)
    "volume": ("立方米", "升"),
    "weight": ("万吨", "吨", "公斤", "千克", "斤"),
    "energy": ("千瓦时", "兆瓦", "千瓦", "瓦", "度"),  # 度: a kilowatt-hour in everyday words (多少度电)
    "time": ("天", "个月", "周", "小时", "分钟", "年", "个工作日", "工作日"),
    "share": ("%", "成"),
}
FAMILY = {unit: family for family, units in UNIT_FAMILIES.items() for unit in units}
