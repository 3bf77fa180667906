"""Sales pages: each part (views/<part>.py) lists its own urlpatterns."""

from .views import opportunities, orders, products, receipts, targets

app_name = "sales"

urlpatterns = [
    *targets.urlpatterns,
    *products.urlpatterns,
    *opportunities.urlpatterns,
    *orders.urlpatterns,
    *receipts.urlpatterns,
]
