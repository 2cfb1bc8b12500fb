# Sourced by scripts/bench and scripts/bench-ab: the purchase every benchmark posts, as loadgen's
# body template ({n}: the request's number, {r}: a member drawn at random), so that the two
# measure the same request.
#
#   purchase_body PREFIX OCCURRED_AT    # prints the body; PREFIX starts each transaction id

purchase_body() {
  printf '{"transaction_id":"%s-{n}","member_id":"m-{r}","store_id":"s-12","channel":"store",' "$1"
  printf '"occurred_at":"%s","currency":"USD","lines":[' "$2"
  printf '{"line_id":"1","sku":"LATTE-L","category":"coffee","quantity":2,"unit_price":525},'
  printf '{"line_id":"2","sku":"CROISSANT","category":"bakery","quantity":3,"unit_price":375},'
  printf '{"line_id":"3","sku":"BEANS-ETH-250","category":"beans","quantity":1,"unit_price":1800}]}'
}
