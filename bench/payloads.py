"""Distinct, realistic Chinese complaint bodies for the intake benchmark (public intake JSON)."""

import random
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀兰 霞 平 刚 "
    "桂英 建华 晓东 海燕 志强 丹 雪梅 文博 子涵 浩然 欣怡"
).split()
PINYIN = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma", "zhu"]
DOMAINS = ["163.com", "qq.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
PRODUCTS = [
    "智能电饭煲",
    "无线蓝牙耳机",
    "儿童安全座椅",
    "空气净化器",
    "扫地机器人",
    "电动牙刷",
    "羽绒服",
    "运动鞋",
    "破壁料理机",
    "笔记本电脑",
    "智能手表",
    "婴儿奶粉",
    "电热水壶",
    "洗碗机",
    "空调挂机",
    "行车记录仪",
]
SHOPS = ["官方旗舰店", "线下门店", "京东自营", "天猫旗舰店", "拼多多店铺", "品牌专卖店", "社区超市"]
PROBLEMS = [
    "使用不到一周就出现无法开机的情况，按照说明书操作重启也没有任何反应",
    "收到货后发现外包装破损，产品表面有明显划痕，与页面描述严重不符",
    "充电时机身异常发烫，并伴有焦糊味，担心存在安全隐患，已停止使用",
    "连续使用三天后按键失灵，屏幕频繁闪烁，影响正常使用",
    "产品实际重量与标签标注不一致，明显短斤少两",
    "运行时噪音非常大，远超宣传的静音标准，晚上根本无法入睡",
    "做工粗糙，接缝处开胶，穿了两次鞋底就断裂了",
    "说明书宣传的续航时间为三十天，实际使用不到五天就没电了",
]
CONTACTS = [
    "多次联系在线客服，对方一直推脱，要求我自行寄回检测，运费还要自理",
    "拨打售后电话等待超过四十分钟无人接听，留言后也没有人回电",
    "客服答应三个工作日内给予答复，但至今已过去两周仍未处理",
    "门店工作人员态度冷淡，称已过七天无理由退货期限，拒绝退款",
    "在平台提交了售后申请，被商家以人为损坏为由直接驳回",
]
DEMANDS = [
    "现要求商家按照三包规定全额退款，并承担来回运费。",
    "希望贵公司尽快核实情况，给予退款处理，并对相关客服人员进行培训。",
    "请依法处理，退还货款并给予合理赔偿。",
    "要求退货退款，并书面说明产品质量问题的原因。",
]


def _description(rng: random.Random, n: int) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    text = (
        f"本人于{month}月{day}日在{rng.choice(SHOPS)}购买了一台{rng.choice(PRODUCTS)}，"
        f"订单号{rng.randint(10**15, 10**16 - 1)}，实付金额一百九十九元。"
        f"{rng.choice(PROBLEMS)}。{rng.choice(CONTACTS)}。"
    )
    if rng.random() < 0.5:
        text += f"{rng.choice(PROBLEMS)}，{rng.choice(CONTACTS)}。"
    text += rng.choice(DEMANDS) + f"（来件编号{n}）"
    return text[:300]


def complaint(n: int, rng: random.Random) -> dict[str, Any]:
    """The n-th distinct public intake body."""
    phone = "138" + f"{rng.randrange(10**8):08d}"
    return {
        "complainant_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "complainant_phone": phone,
        "complainant_email": f"{rng.choice(PINYIN)}{phone[-6:]}{n % 100}@{rng.choice(DOMAINS)}",
        "description": _description(rng, n),
        "province_code": "440000",
        "city_code": "440300",
        "district_code": "440305",
        "category": "product_quality",
        "remedies_requested": ["refund"],
        "amount_claimed": "199.00",
    }
