//! The Exact entities the emulator knows without fixtures: key, OData type and documented fields
//! (shared/reference/exact-online.md §5). Fixture records add whatever other fields they carry.
//! A POST naming a field in neither is refused, as Exact refuses unknown properties.

pub struct EntitySpec {
    /// `service/Entity`, with the service in the casing Exact's own URLs use.
    pub path: &'static str,
    pub key: &'static str,
    pub type_name: &'static str,
    pub fields: &'static [&'static str],
    pub lines: Option<LineSpec>,
}

/// An inline line collection (`SalesOrderLines`), sent as an array on POST.
pub struct LineSpec {
    pub property: &'static str,
    pub type_name: &'static str,
    pub fields: &'static [&'static str],
}

/// Read-only fields every Exact record may carry.
const COMMON: &[&str] = &["Created", "Modified", "Creator", "CreatorFullName", "Modifier", "ModifierFullName", "Division"];

/// Read-only fields Exact returns on lines.
const LINE_COMMON: &[&str] = &["ID", "LineNumber", "ItemCode", "ItemDescription", "AmountFC", "AmountDC", "VATAmountFC", "Division"];

pub const CATALOGUE: &[EntitySpec] = &[
    EntitySpec {
        path: "salesorder/SalesOrders",
        key: "OrderID",
        type_name: "Exact.Web.Api.Models.SalesOrder",
        fields: &[
            "OrderID",
            "OrderNumber",
            "OrderedBy",
            "OrderedByName",
            "DeliverTo",
            "InvoiceTo",
            "YourRef",
            "OrderDate",
            "DeliveryDate",
            "Description",
            "Currency",
            "PaymentCondition",
            "WarehouseID",
            "Status",
            "StatusDescription",
            "AmountFC",
            "AmountFCExclVat",
        ],
        lines: Some(LineSpec {
            property: "SalesOrderLines",
            type_name: "Exact.Web.Api.Models.SalesOrderLine",
            fields: &[
                "OrderID",
                "Item",
                "Quantity",
                "UnitPrice",
                "NetPrice",
                "Discount",
                "VATCode",
                "Description",
                "UnitCode",
                "CostCenter",
                "DeliveryDate",
            ],
        }),
    },
    EntitySpec {
        path: "salesinvoice/SalesInvoices",
        key: "InvoiceID",
        type_name: "Exact.Web.Api.Models.SalesInvoice",
        fields: &[
            "InvoiceID",
            "InvoiceNumber",
            "OrderedBy",
            "OrderedByName",
            "InvoiceTo",
            "DeliverTo",
            "Journal",
            "Type",
            "Status",
            "StatusDescription",
            "YourRef",
            "InvoiceDate",
            "DueDate",
            "OrderDate",
            "OrderNumber",
            "PaymentCondition",
            "Currency",
            "Description",
            "Warehouse",
            "AmountFC",
            "VATAmountFC",
        ],
        lines: Some(LineSpec {
            property: "SalesInvoiceLines",
            type_name: "Exact.Web.Api.Models.SalesInvoiceLine",
            fields: &["InvoiceID", "Item", "Quantity", "UnitPrice", "VATCode", "GLAccount", "Description", "CostCenter"],
        }),
    },
    EntitySpec {
        path: "salesentry/SalesEntries",
        key: "EntryID",
        type_name: "Exact.Web.Api.Models.SalesEntry",
        fields: &[
            "EntryID",
            "EntryNumber",
            "InvoiceNumber",
            "Customer",
            "CustomerName",
            "Journal",
            "EntryDate",
            "DueDate",
            "YourRef",
            "Description",
            "Type",
            "Status",
            "Currency",
            "PaymentCondition",
            "ReportingYear",
            "ReportingPeriod",
            "AmountDC",
            "VATAmountDC",
        ],
        lines: Some(LineSpec {
            property: "SalesEntryLines",
            type_name: "Exact.Web.Api.Models.SalesEntryLine",
            fields: &["EntryID", "GLAccount", "AmountFC", "VATCode", "Description", "CostCenter", "From", "To"],
        }),
    },
    EntitySpec {
        path: "crm/Accounts",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Account",
        fields: &[
            "ID",
            "Code",
            "Name",
            "Email",
            "Phone",
            "Website",
            "Status",
            "IsSales",
            "IsSupplier",
            "AddressLine1",
            "AddressLine2",
            "Postcode",
            "City",
            "Country",
            "VATNumber",
            "SalesVATCode",
            "PurchaseVATCode",
            "PaymentConditionSales",
            "MainContact",
            "Blocked",
        ],
        lines: None,
    },
    EntitySpec {
        path: "crm/Contacts",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Contact",
        fields: &["ID", "Account", "FirstName", "LastName", "FullName", "Email", "Phone", "JobTitleDescription"],
        lines: None,
    },
    EntitySpec {
        path: "logistics/Items",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Item",
        fields: &[
            "ID",
            "Code",
            "Description",
            "ExtraDescription",
            "Notes",
            "IsSalesItem",
            "IsStockItem",
            "IsPurchaseItem",
            "SalesVatCode",
            "SalesVatCodeDescription",
            "Unit",
            "UnitDescription",
            "ItemGroup",
            "ItemGroupCode",
            "ItemGroupDescription",
            "Barcode",
            "StandardSalesPrice",
            "CostPriceStandard",
            "GLRevenue",
            "GLCosts",
            "PictureUrl",
        ],
        lines: None,
    },
    EntitySpec {
        path: "logistics/ItemGroups",
        key: "ID",
        type_name: "Exact.Web.Api.Models.ItemGroup",
        fields: &["ID", "Code", "Description"],
        lines: None,
    },
    EntitySpec {
        path: "vat/VATCodes",
        key: "ID",
        type_name: "Exact.Web.Api.Models.VATCode",
        fields: &["ID", "Code", "Description", "Percentage", "Type", "VATTransactionType", "IsBlocked", "GLToPay", "GLToClaim"],
        lines: None,
    },
    EntitySpec {
        path: "inventory/Warehouses",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Warehouse",
        fields: &["ID", "Code", "Description", "Main"],
        lines: None,
    },
    EntitySpec {
        path: "financial/GLAccounts",
        key: "ID",
        type_name: "Exact.Web.Api.Models.GLAccount",
        fields: &["ID", "Code", "Description", "Type", "BalanceSide", "BalanceType", "VATCode", "IsBlocked"],
        lines: None,
    },
    EntitySpec {
        path: "purchaseorder/PurchaseOrders",
        key: "PurchaseOrderID",
        type_name: "Exact.Web.Api.Models.PurchaseOrder",
        fields: &["PurchaseOrderID", "OrderNumber", "Supplier", "Warehouse", "OrderDate", "ReceiptDate", "YourRef", "Currency", "OrderStatus"],
        lines: Some(LineSpec {
            property: "PurchaseOrderLines",
            type_name: "Exact.Web.Api.Models.PurchaseOrderLine",
            fields: &["PurchaseOrderID", "Item", "Quantity", "UnitPrice", "NetPrice", "VATCode", "Description", "ReceiptDate", "Unit", "CostCenter"],
        }),
    },
    EntitySpec {
        path: "purchaseentry/PurchaseEntries",
        key: "EntryID",
        type_name: "Exact.Web.Api.Models.PurchaseEntry",
        fields: &["EntryID", "EntryNumber", "Supplier", "Journal", "EntryDate", "DueDate", "YourRef", "Type", "Status"],
        lines: Some(LineSpec {
            property: "PurchaseEntryLines",
            type_name: "Exact.Web.Api.Models.PurchaseEntryLine",
            fields: &["EntryID", "GLAccount", "AmountFC", "VATCode", "Description", "CostCenter"],
        }),
    },
    EntitySpec {
        path: "hrm/Costcenters",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Costcenter",
        fields: &["ID", "Code", "Description", "EndDate"],
        lines: None,
    },
    // Written through `webhooks::create` (the callback check), not the generic create.
    EntitySpec {
        path: "webhooks/WebhookSubscriptions",
        key: "ID",
        type_name: "Exact.Web.Api.Models.Webhooks.WebhookSubscription",
        fields: &["ID", "CallbackURL", "Topic", "Description", "IsInstant", "ClientID", "UserID"],
        lines: None,
    },
];

impl EntitySpec {
    /// Documented fields plus the read-only ones every record has.
    pub fn all_fields(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().chain(COMMON).copied().chain(self.lines.as_ref().map(|l| l.property))
    }
}

impl LineSpec {
    pub fn all_fields(&self) -> impl Iterator<Item = &'static str> {
        self.fields.iter().chain(LINE_COMMON).copied()
    }
}
