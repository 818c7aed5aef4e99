#include "pairs.h"

#include "toolmark/engine/check.h"
#include "toolmark/engine/registry.h"

namespace toolmark::eval::detail {
namespace {

std::string Cell(const std::map<std::string, std::string>& row, const std::string& column) {
  const auto it = row.find(column);
  return it == row.end() ? std::string() : it->second;
}

}  // namespace

std::vector<Entry> ReadEntries(const ingest::Manifest& m, const std::string& truth) {
  const auto has = [&](const char* c) {
    return std::find(m.columns.begin(), m.columns.end(), c) != m.columns.end();
  };
  Check(has("firearm"), truth + ": no firearm column (see datasets/README.md)");
  std::vector<Entry> entries;
  for (const auto& row : m.rows) {
    Entry e;
    e.file = Cell(row, "file");
    e.firearm = Cell(row, "firearm");
    Check(!e.firearm.empty(), truth + ": " + e.file + ": empty firearm");
    e.mark = Cell(row, "mark");
    e.bullet = Cell(row, "bullet");
    e.land_id = Cell(row, "land_id");
    const std::optional<Mark> mark = ParseMark(e.mark);
    e.is_land = ParseKind(Cell(row, "kind")) == Kind::kBullet || (mark && mark->type == MarkType::kLand);
    const std::string land = Cell(row, "land");
    if (!land.empty()) {
      try {
        e.land = std::stoi(land);
      } catch (const std::exception&) {
        Fail(truth + ": " + e.file + ": land is not a number: " + land);
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

LevelCounts CountCandidates(const std::vector<Entry>& e, bool has_land_id, bool has_bullet) {
  LevelCounts c;
  const int n = static_cast<int>(e.size());
  const auto at = [&](int i) -> const Entry& { return e[static_cast<std::size_t>(i)]; };
  const auto count = [](std::pair<std::size_t, std::size_t>* into) {
    return [into](const Candidate& k) {
      ++into->first;
      into->second += k.known_match ? 1 : 0;
    };
  };
  ForEachPair(
      n, [&](int i, int j) { return !at(i).is_land && !at(j).is_land && at(i).mark == at(j).mark; },
      [&](int i, int j) { return at(i).firearm == at(j).firearm; }, count(&c.pair));
  if (has_land_id)
    ForEachPair(
        n, [&](int i, int j) { return at(i).is_land && at(j).is_land; },
        [&](int i, int j) { return !at(i).land_id.empty() && at(i).land_id == at(j).land_id; },
        count(&c.land));
  if (has_bullet) {
    std::map<std::string, std::string> firearm_of;  // bullet → firearm
    for (const Entry& x : e)
      if (x.is_land) firearm_of[x.bullet] = x.firearm;
    std::vector<std::string> firearms;
    for (const auto& [bullet, firearm] : firearm_of) firearms.push_back(firearm);
    ForEachPair(
        static_cast<int>(firearms.size()), [](int, int) { return true; },
        [&](int i, int j) {
          return firearms[static_cast<std::size_t>(i)] == firearms[static_cast<std::size_t>(j)];
        },
        count(&c.bullet));
  }
  return c;
}

}  // namespace toolmark::eval::detail
