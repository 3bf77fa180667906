"""The demo company's products and prices (sales step 50): four categories, fifteen products
of 华东智联科技 (terminals, network equipment, software and services), the standard, A-customer
and distributor price lists, a mid-2026 promotion, and the discount authority of each role."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model

from marketdesk.core.demo import DemoStep, register_demo_step
from marketdesk.org.models import Role

from ..models import PriceList, Product, ProductStatus
from ..services import products as services

CATEGORIES = [
    # code, name, order
    ("terminals", "智能终端", 10),
    ("network", "网络设备", 20),
    ("software", "软件服务", 30),
    ("services", "实施服务", 40),
]

PRODUCTS = [
    # code, name, category, unit, spec, list price, cost, status
    (
        "ZT-100",
        "智联工业平板 ZT-100",
        "terminals",
        "台",
        "10.1 英寸 / 8 核 / 8 GB / IP65",
        "6800",
        "4100",
        "active",
    ),
    (
        "ZT-200",
        "智联工业平板 ZT-200",
        "terminals",
        "台",
        "12 英寸 / 8 核 / 16 GB / IP67",
        "9800",
        "5900",
        "active",
    ),
    (
        "ZT-80",
        "智联手持终端 ZT-80",
        "terminals",
        "台",
        "5.5 英寸 / 扫码 / 4G",
        "3200",
        "2050",
        "discontinued",
    ),
    (
        "ZK-10",
        "智能数据采集盒 ZK-10",
        "terminals",
        "台",
        "8 路 IO / RS485 / 4G",
        "2600",
        "1380",
        "active",
    ),
    (
        "ZS-300",
        "智联智能看板 ZS-300",
        "terminals",
        "台",
        "55 英寸 / 4K / 安卓 11",
        "12800",
        "8300",
        "active",
    ),
    (
        "GW-20",
        "边缘计算网关 GW-20",
        "network",
        "台",
        "4 核 / 4 GB / 双网口 / 5G",
        "4500",
        "2600",
        "active",
    ),
    (
        "GW-50",
        "边缘计算网关 GW-50",
        "network",
        "台",
        "8 核 / 16 GB / 6 网口 / 5G",
        "8900",
        "5200",
        "active",
    ),
    (
        "SW-24",
        "工业交换机 SW-24",
        "network",
        "台",
        "24 千兆电口 + 4 光口 / 导轨式",
        "3800",
        "2300",
        "active",
    ),
    ("AP-6", "工业无线 AP-6", "network", "台", "Wi-Fi 6 / 双频 / PoE", "1900", "1050", "inactive"),
    (
        "YP-STD",
        "智联云平台 标准版",
        "software",
        "年",
        "50 台设备接入 / 1 年",
        "36000",
        "6000",
        "active",
    ),
    (
        "YP-PRO",
        "智联云平台 专业版",
        "software",
        "年",
        "200 台设备接入 / 1 年 / 私有报表",
        "88000",
        "14000",
        "active",
    ),
    (
        "MES-L",
        "智联 MES 许可",
        "software",
        "套",
        "永久许可 / 20 并发用户",
        "160000",
        "30000",
        "active",
    ),
    ("SS-INST", "现场安装调试", "services", "项", "单站点 / 3 人日以内", "8000", "4500", "active"),
    (
        "SS-TRAIN",
        "用户培训",
        "services",
        "项",
        "2 天现场培训 / 20 人以内",
        "6000",
        "2800",
        "active",
    ),
    (
        "SS-MAINT",
        "年度维保服务",
        "services",
        "年",
        "7×24 远程 + 每季度巡检",
        "18000",
        "7600",
        "active",
    ),
]

D = datetime.date
YEAR_START, YEAR_END = D(2026, 1, 1), D(2026, 12, 31)

PRICE_LISTS = [
    # name, level, tier, from, to, priority, notes, {code: [(from qty, price), ...]}
    (
        "2026 标准价",
        "",
        "",
        YEAR_START,
        YEAR_END,
        10,
        "全部客户、全部渠道适用的年度基准价；台套类 10 台以上阶梯价。",
        {
            "ZT-100": [("1", "6800"), ("10", "6500")],
            "ZT-200": [("1", "9800"), ("10", "9400")],
            "ZK-10": [("1", "2600"), ("20", "2400")],
            "GW-20": [("1", "4500"), ("10", "4300")],
            "SW-24": [("1", "3800")],
        },
    ),
    (
        "2026 A类客户价",
        "A",
        "direct",
        YEAR_START,
        YEAR_END,
        20,
        "A 类（重点）直销客户年度协议价。",
        {
            "ZT-100": [("1", "6400"), ("10", "6100"), ("50", "5800")],
            "ZT-200": [("1", "9200"), ("10", "8800")],
            "ZS-300": [("1", "12000")],
            "GW-20": [("1", "4200"), ("10", "4000")],
            "GW-50": [("1", "8400")],
            "YP-STD": [("1", "32400")],
            "YP-PRO": [("1", "79200")],
            "MES-L": [("1", "148000")],
            "SS-MAINT": [("1", "16200")],
        },
    ),
    (
        "2026 一级经销商价",
        "",
        "tier1",
        YEAR_START,
        YEAR_END,
        20,
        "一级经销商供货价（约标准价 75 折），按渠道政策执行。",
        {
            "ZT-100": [("1", "5100"), ("50", "4900")],
            "ZT-200": [("1", "7350"), ("50", "7050")],
            "ZK-10": [("1", "1950")],
            "ZS-300": [("1", "9600")],
            "GW-20": [("1", "3380")],
            "GW-50": [("1", "6680")],
            "SW-24": [("1", "2850")],
            "YP-STD": [("1", "27000")],
        },
    ),
    (
        "2026 二级经销商价",
        "",
        "tier2",
        YEAR_START,
        YEAR_END,
        20,
        "二级经销商供货价（约标准价 85 折）。",
        {
            "ZT-100": [("1", "5780")],
            "ZT-200": [("1", "8330")],
            "ZK-10": [("1", "2210")],
            "GW-20": [("1", "3830")],
            "SW-24": [("1", "3230")],
        },
    ),
    (
        "2026 年中促销价",
        "",
        "",
        D(2026, 6, 1),
        D(2026, 7, 31),
        30,
        "“618 智造节”年中促销：工业平板与边缘网关限时优惠，6 月 1 日至 7 月 31 日。",
        {
            "ZT-100": [("1", "6200")],
            "ZT-200": [("1", "8900")],
            "GW-20": [("1", "3990")],
        },
    ),
]

AUTHORITIES = [("salesperson", "5"), ("group_leader", "10"), ("marketing_manager", "20")]


def build_products() -> str:
    users = {u.username: u for u in get_user_model().objects.all()}
    if "zhangwei" not in users or Product.objects.exists():
        return "skipped"
    system, manager = users["system"], users["zhangwei"]
    categories = {
        code: services.category_create(actor=system, code=code, name=name, sort_order=order)
        for code, name, order in CATEGORIES
    }
    products = {}
    for code, name, category, unit, spec, price, cost, status in PRODUCTS:
        products[code] = services.product_create(
            actor=manager,
            code=code,
            name=name,
            category=categories[category],
            unit=unit,
            spec=spec,
            list_price=Decimal(price),
            cost=Decimal(cost),
            status=ProductStatus.ACTIVE,
        )
        if status != ProductStatus.ACTIVE:  # priced while on sale, then taken off
            products[code].pending_status = status
    for name, level, tier, start, end, priority, notes, items in PRICE_LISTS:
        price_list = services.price_list_create(
            actor=manager,
            name=name,
            customer_level=level,
            channel_tier=tier,
            valid_from=start,
            valid_to=end,
            priority=priority,
            notes=notes,
        )
        for code, breaks in items.items():
            for quantity, price in breaks:
                services.price_list_item_save(
                    actor=manager,
                    price_list=price_list,
                    product=products[code],
                    min_quantity=Decimal(quantity),
                    price=Decimal(price),
                )
    # Last year's standard list, ended (kept for the orders of 2025).
    old = services.price_list_create(
        actor=manager,
        name="2025 标准价",
        valid_from=D(2025, 1, 1),
        valid_to=D(2025, 12, 31),
        priority=10,
        notes="已到期，保留用于 2025 年订单追溯。",
    )
    for code in ("ZT-100", "ZT-80", "GW-20"):
        services.price_list_item_save(
            actor=manager,
            price_list=old,
            product=products[code],
            price=(products[code].list_price * Decimal("0.97")).quantize(Decimal("1")),
        )
    # The handheld was replaced by ZT-200; the Wi-Fi AP waits for its new certification.
    services.product_update(
        actor=manager,
        product=products["ZT-200"],
        description="ZT-80 手持终端的替代型号，支持宽温 -20~60℃。",
    )
    for product in products.values():
        status = getattr(product, "pending_status", None)
        if status:
            services.product_set_status(actor=manager, product=product, status=status)
    roles = {role.code: role for role in Role.objects.filter(code__in=[r for r, _ in AUTHORITIES])}
    for code, percent in AUTHORITIES:
        if code in roles:
            services.discount_authority_save(
                actor=system, role=roles[code], max_discount=Decimal(percent)
            )
    services.sales_settings_update(actor=system, default_max_discount=Decimal("5"))
    return (
        f"{len(categories)} categories, {len(products)} products, "
        f"{PriceList.objects.count()} price lists, {len(AUTHORITIES)} discount authorities"
    )


register_demo_step(DemoStep(50, "sales.products", build_products))
