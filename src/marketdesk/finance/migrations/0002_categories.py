"""The regulation's three cost families (R7.1) as the starting category tree, and the one
settings row. Administrators change both in the admin afterwards."""

from django.db import migrations

# code, name, family, parent code, invoice, contract, account
CATEGORIES = [
    ("promotion", "促销费用", "promotion", None, True, False, "6601.10"),
    ("advertising", "广告费", "promotion", "promotion", True, True, "6601.11"),
    ("events", "会展活动费", "promotion", "promotion", True, True, "6601.12"),
    ("pr", "公关费", "promotion", "promotion", True, False, "6601.13"),
    ("materials", "宣传物料费", "promotion", "promotion", True, False, "6601.14"),
    ("sales", "销售费用", "sales", None, True, False, "6601.20"),
    ("travel", "差旅费", "sales", "sales", True, False, "6601.21"),
    ("entertainment", "业务招待费", "sales", "sales", True, False, "6601.22"),
    ("samples", "样品费", "sales", "sales", True, False, "6601.23"),
    ("communication", "通讯交通费", "sales", "sales", True, False, "6601.24"),
    ("service", "客户服务费用", "service", None, True, False, "6601.30"),
    ("care-gifts", "客户关怀礼品", "service", "service", True, False, "6601.31"),
    ("hotline", "热线运营费", "service", "service", True, True, "6601.32"),
    ("after-sales", "售后服务费", "service", "service", True, False, "6601.33"),
]


def create(apps, schema_editor):
    Category = apps.get_model("finance", "ExpenseCategory")
    Settings = apps.get_model("finance", "FinanceSettings")
    if not Settings.objects.exists():
        Settings.objects.create()
    made = {}
    for order, (code, name, family, parent, invoice, contract, account) in enumerate(CATEGORIES):
        made[code], _created = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "family": family,
                "parent": made.get(parent),
                "requires_invoice": invoice,
                "requires_contract": contract,
                "account": account,
                "sort_order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
