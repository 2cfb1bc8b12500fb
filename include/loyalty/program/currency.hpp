#pragma once
// ISO 4217 currencies: a program states its currency, and amounts are integers in its minor unit.

#include <string_view>

namespace loyalty::program {

struct currency_info {
    std::string_view code; // "USD"
    int minor_digits = 2;  // cents: 2; yen: 0; dinar: 3
};

// The active ISO 4217 currency with this code, or nullptr.
const currency_info* find_currency(std::string_view code);

} // namespace loyalty::program
