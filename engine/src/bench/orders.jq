# The LNB → Exact orders mapping of mappings/lnb-exact/orders.flow.yaml in jq,
# as a yardstick: account and item look-ups from preloaded tables, warehouse by
# pre-order, YourRef, lines, and the block reasons (unknown customer or SKU,
# quantity not above 0). Run as:
#   jq -n -c --slurpfile accounts crm_Accounts.json --slurpfile items logistics_Items.json -f orders.jq orders.jsonl
# (-n and `inputs`, so the look-up tables are built once, not per order).
($accounts[0].d.results | map({key: .Code, value: .ID}) | from_entries) as $acc
| ($items[0].d.results | map({key: .Code, value: .ID}) | from_entries) as $itm
| inputs
| . as $o
| ($o.retailer.reference | tostring | (" " * (18 - length)) + .) as $code
| [ (if $acc[$code] == null then "Customer \($o.retailer.reference) does not exist as an Account in Exact Online" else empty end),
    ($o.lines[] | select($itm[.sku] == null) | "Product \(.sku) does not exist as an Item in Exact Online"),
    ($o.lines[] | select(.quantity <= 0) | "Line \(.sku) has quantity \(.quantity); it must be more than 0")
  ] as $reasons
| if ($reasons | length) > 0 then
    {key: $o.reference, status: "blocked", reasons: $reasons}
  else
    {key: $o.reference, status: "ready", request: {system: "exact", method: "POST", path: "salesorder/SalesOrders", body: {
      OrderedBy: $acc[$code],
      WarehouseID: (if $o.line.preorder then "950e7dc6-c918-40a5-9407-2505cfbadc91" else "28062cd0-893f-4bd7-9f73-e4a0f372a5b4" end),
      YourRef: "PO\($o.line.id)",
      Currency: $o.currency,
      SalesOrderLines: [$o.lines[] | {Item: $itm[.sku], Quantity: .quantity, UnitPrice: .unit_price}]
    }}}
  end
