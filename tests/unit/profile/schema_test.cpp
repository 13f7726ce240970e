// SPDX-License-Identifier: Apache-2.0
// The generic loader machinery (agent/profile/schema.hpp) on a small schema of its own: the walker
// reports unknown keys and tables with suggestions at their own positions, typed getters name the
// expected type, arrays of tables need their required keys, --set paths come from the schema, and a
// layer's diagnostics come out in source order.
#include "profile/schema.hpp"
#include "support/catch.hpp"

#include <string>
#include <vector>

namespace {

using namespace zt::profile::detail;
using zt::profile::Diagnostics;

struct Demo {
  std::string name;
  std::int64_t count = 0;
  std::vector<std::string> tags;
};

void set_name(Demo& d, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_string(layer, node, path)) {
    d.name = *text;
  }
}
void set_count(Demo& d, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_int_in(layer, node, path, 1, 10)) {
    d.count = *value;
  }
}
void set_tags(Demo& d, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  if (list.ok) {
    d.tags = texts(list.items);
  }
}

constexpr Field<Demo> k_inner[] = {{.key = "count", .set = &set_count}, {.key = "tags", .set = &set_tags}};
constexpr Field<Demo> k_root[] = {{.key = "name", .set = &set_name}, table_field<Demo>("inner", k_inner)};

std::vector<std::string> walk(const std::string& text, Demo& demo) {
  Diagnostics out;
  const auto doc = parse_toml(text, "demo.toml", out);
  if (doc) {
    Layer layer("demo.toml");
    walk_table<Demo>(demo, layer, *doc, "", "", k_root);
    layer.flush_to(out);
  }
  std::vector<std::string> lines;
  for (const auto& d : out) {
    lines.push_back(d.to_string());
  }
  return lines;
}

TEST_CASE("schema: the walker stores known keys and reports nothing for a valid layer", "[profile][schema]") {
  Demo demo;
  CHECK(walk("name = \"x\"\n[inner]\ncount = 3\ntags = [\"a\", \"b\"]\n", demo).empty());
  CHECK(demo.name == "x");
  CHECK(demo.count == 3);
  CHECK(demo.tags == std::vector<std::string>{"a", "b"});
}

TEST_CASE("schema: unknown keys and tables are reported in source order with suggestions", "[profile][schema]") {
  Demo demo;
  const auto errors = walk("nmae = \"x\"\n[inner]\ncuont = 3\n[iner]\n", demo);
  CHECK(errors == std::vector<std::string>{
                      "demo.toml:1:1: unknown key 'nmae' (did you mean 'name'?)",
                      "demo.toml:3:1: unknown key 'cuont' in [inner] (did you mean 'count'?)",
                      "demo.toml:4:2: unknown table [iner] (did you mean [inner]?)",
                  });
}

TEST_CASE("schema: typed getters name the expected type and the range", "[profile][schema]") {
  Demo demo;
  const auto errors = walk("name = 1\n[inner]\ncount = 11\ntags = [\"a\", 2, \"a\"]\n", demo);
  CHECK(errors == std::vector<std::string>{
                      "demo.toml:1:8: name: expected a string, got integer",
                      "demo.toml:3:9: inner.count: must be between 1 and 10, got 11",
                      "demo.toml:4:14: inner.tags[1]: expected a string, got integer",
                      "demo.toml:4:17: inner.tags[2]: duplicate 'a' (also inner.tags[0])",
                  });
  CHECK(demo.name.empty());
  CHECK(demo.tags.empty());
}

TEST_CASE("schema: a syntax error is one diagnostic at toml++'s position", "[profile][schema]") {
  Demo demo;
  const auto errors = walk("name = \n", demo);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].starts_with("demo.toml:1:"));
  CHECK(errors[0].find("TOML syntax error") != std::string::npos);
}

TEST_CASE("schema: --set paths are the schema's leaves", "[profile][schema]") {
  std::vector<std::string> paths;
  leaf_paths<Demo>(k_root, "", paths);
  CHECK(paths == std::vector<std::string>{"name", "inner.count", "inner.tags"});
  CHECK(find_leaf<Demo>(k_root, "inner.count") == &k_inner[0]);
  CHECK(find_leaf<Demo>(k_root, "inner") == nullptr);
  CHECK(find_leaf<Demo>(k_root, "name.x") == nullptr);
  CHECK(find_leaf<Demo>(k_root, "nope") == nullptr);
}

struct Entry {
  std::string id;
};
using EntryElement = Element<Entry>;
void set_id(EntryElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_string(layer, node, path)) {
    e.value.id = *text;
    mark(e, layer, node, "id");
  }
}
constexpr Field<EntryElement> k_entry_fields[] = {{.key = "id", .set = &set_id}};
constexpr std::string_view k_entry_required[] = {"id"};

TEST_CASE("schema: arrays of tables need their required keys", "[profile][schema]") {
  Diagnostics out;
  const auto doc = parse_toml("[[e]]\nid = \"a\"\n[[e]]\nother = 1\n", "t.toml", out);
  REQUIRE(doc);
  Layer layer("t.toml");
  const auto elements = get_table_array(layer, *doc->get("e"), "e", k_entry_fields, k_entry_required);
  CHECK_FALSE(elements.has_value());
  layer.flush_to(out);
  REQUIRE(out.size() == 2);
  // Sorted by position: the element's header (3:1) comes before its unknown key (4:1).
  CHECK(out[0].to_string() == "t.toml:3:1: e[1]: missing required key 'id'");
  CHECK(out[1].to_string() == "t.toml:4:1: unknown key 'other' in e[1]");

  Diagnostics ok_out;
  const auto good = parse_toml("[[e]]\nid = \"a\"\n[[e]]\nid = \"b\"\n", "t.toml", ok_out);
  REQUIRE(good);
  Layer ok_layer("t.toml");
  const auto entries = get_table_array(ok_layer, *good->get("e"), "e", k_entry_fields, k_entry_required);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[1].value.id == "b");
  CHECK(report_duplicate(ok_layer, (*entries)[1], "e", 1, "id", "id", std::string("a"),
                         std::vector<Entry>{{"a"}}, &Entry::id));
  ok_layer.flush_to(ok_out);
  REQUIRE(ok_out.size() == 1);
  CHECK(ok_out[0].to_string() == "t.toml:4:6: e[1].id: duplicate id 'a' (also e[0])");
}

TEST_CASE("schema: an override layer puts every position on its own line", "[profile][schema]") {
  Layer layer("--set", 3);
  Diagnostics out;
  const auto doc = parse_toml("x = 1", "--set", out);
  REQUIRE(doc);
  layer.error(*doc->get("x"), "boom");
  layer.flush_to(out);
  REQUIRE(out.size() == 1);
  CHECK(out[0].to_string() == "--set:3:1: boom");
}

} // namespace
