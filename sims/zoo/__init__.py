"""The field: published theorems about data geometry and training, shipped as hmin statements.

Each module is a complete plug-in (``STATEMENT`` and ``CHECK``, the contract of docs/plugins.md) for one
published result, and the registry loads every module here as a statement of the field (source "field"):
``hmin verify`` checks them with the built-in statements and the report card shows them in its field
section; docs/field.md compares them. Each formalisation says where the paper's constants are not explicit
and what it assumes instead, and is kind OURS where the checkable version is ours.

Modules: ``du2019`` (Du, Zhai, Poczos & Singh 2019), ``oymak2020`` (Oymak & Soltanolkotabi 2020),
``arora2019`` (Arora, Du, Hu, Li & Wang 2019), ``lee2019`` (Lee et al. 2019), ``nguyen2021`` (Nguyen,
Mondelli & Montufar 2021).
"""
