def test_fixtures_build(customer, catalogue, sales_settings, sales_personas):
    assert customer.owner == sales_personas.sales1
    assert customer.contacts.count() == 1
    assert catalogue["terminal"].prices.count() == 2
    assert sales_personas.prd_coord.has_perm("sales.change_coordinationtask")
    assert sales_personas.sales1.has_perm("sales.add_salesorder")
