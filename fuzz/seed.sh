#!/usr/bin/env bash
# Seed corpora for the fuzz targets from the bundled real samples (first
# lines of each), then a short run of every target:
#   bash fuzz/seed.sh [seconds per target, default 30]
set -eu  # no pipefail: `zcat | head` ends zcat early by design
cd "$(dirname "$0")"
data=../python/lobkit/data
secs=${1:-30}
mkdir -p corpus/{lobster,tardis,table,depth,kraken,book_state,events}
zcat "$data/lobster/GOOG_2012-06-21_34200000_57600000_message_10_head20000.csv.gz" | head -200 > corpus/lobster/goog_messages
zcat "$data/lobster/GOOG_2012-06-21_34200000_57600000_orderbook_10_head20000.csv.gz" | head -50 > corpus/lobster/goog_orderbook
{ printf '\0'; zcat "$data/binance/btcusdt_usdm_20240808_head4000.gz" | head -80; } > corpus/depth/binance_usdm
printf 'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\nderibit,BTC-PERPETUAL,1000,1100,true,ask,6421.5,18640\nderibit,BTC-PERPETUAL,2000,2100,false,bid,6421,0\n' > corpus/tardis/l2
printf 'ts,kind,side,price,size,order_id\n1,ADD,bid,100,5,1\n2,CANCEL,bid,100,2,1\n3,SET_LEVEL,ask,101,4,0\n' > corpus/table/events
printf '1722000000.1: [1,{"as":[["101.0","1.0","1.5"]],"bs":[["99.0","2.0","1.5"]]},"book-10","XBT/USD"]\n' > corpus/kraken/snapshot
python3 - <<'PY'
import lobkit, numpy as np
from lobkit.testing import synthetic_l2, synthetic_l3
open("corpus/events/l2", "wb").write(synthetic_l2(64, seed=1).tobytes())
open("corpus/events/l3", "wb").write(synthetic_l3(64, seed=1).tobytes())
b = lobkit.L2Book(); lobkit.replay(synthetic_l2(200, seed=2), book=b, depth=0)
open("corpus/book_state/l2", "wb").write(b.__reduce__()[1][4])  # the core's state bytes
PY
for t in lobster tardis table depth kraken book_state events; do
  echo "== $t"
  cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tail -2
done
