use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::json;

/// Where the generated files are.
pub struct World {
    pub orders: PathBuf,
    pub fixtures: PathBuf,
    pub accounts: usize,
    pub items: usize,
}

/// A small deterministic generator (xorshift), so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ACCOUNTS: usize = 2_000;
const ITEMS: usize = 5_000;

fn guid(kind: u32, n: usize) -> String {
    format!("{kind:08x}-0000-4000-8000-{n:012x}")
}

/// Writes `orders` orders of `lines` lines as JSON lines, and the Exact
/// fixtures (accounts with Exact's padded codes, items) they are looked up in.
pub fn generate(dir: &Path, orders: usize, lines: usize) -> std::io::Result<World> {
    let fixtures = dir.join("fixtures");
    std::fs::create_dir_all(fixtures.join("exact"))?;
    let accounts: Vec<serde_json::Value> = (0..ACCOUNTS)
        .map(|i| json!({"ID": guid(1, i), "Code": format!("{:>18}", 100_000 + i), "Name": format!("Retailer {i}"), "Status": "C"}))
        .collect();
    let items: Vec<serde_json::Value> =
        (0..ITEMS).map(|i| json!({"ID": guid(2, i), "Code": format!("SKU-{i:05}"), "Description": format!("Item {i}")})).collect();
    for (name, list) in [("crm_Accounts", accounts), ("logistics_Items", items), ("salesorder_SalesOrders", Vec::new())] {
        let body = json!({"d": {"results": list}});
        std::fs::write(fixtures.join("exact").join(format!("{name}.json")), body.to_string())?;
    }

    let path = dir.join("orders.jsonl");
    let mut out = BufWriter::new(File::create(&path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in 0..orders {
        let id = 1_000_000 + n;
        // About 1% unknown customers and 1% orders with an unknown SKU.
        let roll = rng.below(100);
        let retailer = if roll == 0 { "999999".to_string() } else { (100_000 + rng.below(ACCOUNTS as u64)).to_string() };
        let order_lines: Vec<serde_json::Value> = (0..lines)
            .map(|l| {
                let sku = if roll == 1 && l == 0 { "SKU-UNKNOWN".to_string() } else { format!("SKU-{:05}", rng.below(ITEMS as u64)) };
                json!({"sku": sku, "name": "Generated item", "quantity": 1 + rng.below(24), "unit_price": (rng.below(20_000) as f64) / 100.0})
            })
            .collect();
        let order = json!({
            "id": id,
            "reference": id.to_string(),
            "status": "Invoicing",
            "currency": "EUR",
            "retailer": {"reference": retailer, "name": "Generated retailer"},
            "line": {"id": id, "name": "SS25", "preorder": rng.below(5) == 0},
            "lines": order_lines,
        });
        serde_json::to_writer(&mut out, &order)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(World { orders: path, fixtures, accounts: ACCOUNTS, items: ITEMS })
}
