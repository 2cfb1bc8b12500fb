#pragma once
// The OpenAPI 3.1 description of every route (GET /v1/openapi.json).

#include <nlohmann/json.hpp>

namespace loyalty::http {

const nlohmann::json& openapi_document();

} // namespace loyalty::http
