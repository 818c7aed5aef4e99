// The evidence database: storage, duplicates, integrity, leftovers, validation.
#include "toolmark/index/database.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "raw_catalog.h"
#include "test_util.h"
#include "toolmark/base/hash.h"
#include "toolmark/engine/check.h"

namespace toolmark::index {
namespace {

const Mark kFace{MarkType::kBreechFace};
namespace fs = std::filesystem;

Surface MakeSurface(int seed) {
  Surface s;
  s.values.create(40, 60, CV_64FC1);
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 60; ++x) s.values.at<double>(y, x) = std::sin(0.1 * x * seed) + 0.01 * y;
  s.values.at<double>(3, 4) = NAN;
  s.spacing_x_um = 1.5625;
  s.spacing_y_um = 3.125;
  s.origin_x_um = 10;
  return s;
}

ItemRecord MakeItem(int seed) {
  ItemRecord it;
  it.file = "scan-" + std::to_string(seed) + ".x3p";
  it.sha256 = base::Sha256Hex("file " + std::to_string(seed));
  it.format = "x3p";
  it.case_id = "C-2026-001";
  it.item_label = "Q" + std::to_string(seed);
  it.jurisdiction = "NL";
  it.kind = seed % 2 ? Kind::kBullet : Kind::kCartridgeCase;
  it.role = "questioned";
  it.marks = {seed % 2 ? Mark{MarkType::kLand, seed % 6 + 1} : Mark{MarkType::kBreechFace}};
  it.class_marks = {"9mm Luger", "hemispherical", 6, "right"};
  it.firearm = {"Ruger", "P95", "", "truth-label"};
  it.instrument = "Sensofar S neox";
  it.checksum_ok = true;
  return it;
}

TEST(Database, AddGetListAndLoadSurface) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  const AddResult a = db->Add(MakeItem(1), MakeSurface(1));
  const AddResult b = db->Add(MakeItem(2), MakeSurface(2));
  EXPECT_FALSE(a.duplicate);
  EXPECT_NE(a.id, b.id);
  const auto got = db->Get(a.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->case_id, "C-2026-001");
  EXPECT_EQ(got->marks, (std::vector<Mark>{{MarkType::kLand, 2}}));
  EXPECT_EQ(got->class_marks.lands, 6);
  EXPECT_EQ(got->firearm.truth_label, "truth-label");
  EXPECT_EQ(got->size_x, 60);
  EXPECT_EQ(got->size_y, 40);
  EXPECT_DOUBLE_EQ(got->spacing_y_um, 3.125);
  EXPECT_NEAR(got->valid_fraction, 1.0 - 1.0 / 2400, 1e-12);
  EXPECT_EQ(got->surface_kind, "height");
  EXPECT_FALSE(got->toolmark_version.empty());
  EXPECT_FALSE(got->ingested_at.empty());
  EXPECT_EQ(got->checksum_ok, std::optional<bool>(true));
  EXPECT_TRUE(IdenticalSurfaces(db->LoadSurface(a.id), MakeSurface(1)));
  EXPECT_EQ(db->List().size(), 2u);
  EXPECT_FALSE(db->Get(999));
  EXPECT_THROW(db->LoadSurface(999), Error);
}

TEST(Database, SameFileTwiceIsReportedNotDuplicated) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  const AddResult first = db->Add(MakeItem(1), MakeSurface(1));
  ItemRecord again = MakeItem(1);
  again.case_id = "another case";
  const AddResult second = db->Add(again, MakeSurface(1));
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(db->List().size(), 1u);
  EXPECT_EQ(db->FindBySha256(MakeItem(1).sha256), std::optional<ItemId>(first.id));
}

TEST(Database, PersistsAcrossReopen) {
  testing::TempDir dir;
  ItemId id = kInvalidItemId;
  {
    auto db = Database::Open(dir / "db", true);
    id = db->Add(MakeItem(3), MakeSurface(3)).id;
  }
  auto db = Database::Open(dir / "db", false);
  ASSERT_TRUE(db->Get(id));
  EXPECT_TRUE(IdenticalSurfaces(db->LoadSurface(id), MakeSurface(3)));
  EXPECT_TRUE(db->Verify(false).ok());
}

TEST(Database, OpenRefusesMissingAndForeignFolders) {
  testing::TempDir dir;
  EXPECT_THROW(Database::Open(dir / "absent", false), Error);
  fs::create_directories(dir.path() / "foreign");
  std::ofstream(dir / "foreign/precious.txt") << "not ours";
  EXPECT_THROW(Database::Open(dir / "foreign", true), Error);
  EXPECT_TRUE(fs::exists(dir.path() / "foreign/precious.txt"));
}

TEST(Database, InvalidItemsAreRefusedAndNothingIsStored) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  std::vector<std::function<void(ItemRecord&)>> breakers = {
      [](ItemRecord& i) { i.role = "suspect"; },
      [](ItemRecord& i) { i.case_id.clear(); },
      [](ItemRecord& i) { i.jurisdiction.clear(); },
      [](ItemRecord& i) { i.marks.clear(); },
      [](ItemRecord& i) {
        i.marks = {{MarkType::kBreechFace, 3}};
      },
      [](ItemRecord& i) { i.sha256 = "abc"; },
      [](ItemRecord& i) { i.class_marks.lands = 100; },
      [](ItemRecord& i) { i.class_marks.twist = "up"; },
  };
  for (auto& breaker : breakers) {
    ItemRecord it = MakeItem(4);
    breaker(it);
    EXPECT_THROW(db->Add(it, MakeSurface(4)), Error);
  }
  EXPECT_THROW(db->Add(MakeItem(4), Surface{}), Error);
  EXPECT_TRUE(db->List().empty());
  const VerifyReport r = db->Verify(false);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.leftovers.empty());
}

fs::path OnlyArrayFile(const fs::path& db) {
  for (const auto& e : fs::recursive_directory_iterator(db / "arrays")) {
    if (e.is_regular_file()) return e.path();
  }
  return {};
}

TEST(Database, VerifyDetectsDamagedAndMissingArrays) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  const ItemId id = db->Add(MakeItem(5), MakeSurface(5)).id;
  EXPECT_TRUE(db->Verify(false).ok());
  const fs::path array = OnlyArrayFile(dir.path() / "db");
  std::string bytes = testing::ReadFile(array.string());
  // Flip bytes in the middle of the file (chunk data or metadata).
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i)
    bytes[i] = static_cast<char>(~bytes[i]);
  testing::WriteFile(array.string(), bytes);
  EXPECT_FALSE(db->Verify(false).ok());
  EXPECT_THROW(db->LoadSurface(id), Error);
  fs::remove(array);
  const VerifyReport r = db->Verify(false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.problems.front().find("item " + std::to_string(id)), std::string::npos);
}

TEST(Database, LeftoversAreReportedAndRepairedWithoutTouchingItems) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  db->Add(MakeItem(6), MakeSurface(6));
  fs::create_directories(dir.path() / "db/arrays/zz");
  std::ofstream(dir / "db/arrays/zz/orphan.h5") << "half written";
  std::ofstream(dir / "db/arrays/zz/x.h5.tmp-1-2") << "temp";
  VerifyReport r = db->Verify(false);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.leftovers.size(), 2u);
  r = db->Verify(true);
  EXPECT_EQ(r.leftovers.size(), 2u);
  r = db->Verify(false);
  EXPECT_TRUE(r.leftovers.empty());
  EXPECT_EQ(db->List().size(), 1u);
  EXPECT_TRUE(db->Verify(false).ok());
}

TEST(Database, ConcurrentWritersFromThreadsAndHandles) {
  testing::TempDir dir;
  auto db1 = Database::Open(dir / "db", true);
  auto db2 = Database::Open(dir / "db", false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Database& db = t % 2 ? *db1 : *db2;
      for (int i = 0; i < 10; ++i) db.Add(MakeItem(100 + (i % 5) * 4 + t % 4), MakeSurface(1 + i));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(db1->List().size(), 20u);  // 20 distinct files, each stored once
  EXPECT_TRUE(db1->Verify(false).ok());
}

TEST(Database, FeatureRecordsAreStoredReplacedAndChecked) {
  testing::TempDir dir;
  ItemId a = kInvalidItemId, b = kInvalidItemId;
  {
    auto db = Database::Open(dir / "db", true);
    a = db->Add(MakeItem(1), MakeSurface(1)).id;
    b = db->Add(MakeItem(2), MakeSurface(2)).id;
    db->PutFeatures({{a, kFace, "cmc", "v1", {0.5f, -0.25f, 1.0f}},
                     {b, kFace, "cmc", "v1", {0.1f, 0.2f, 0.3f}},
                     {a, kFace, "cmc", "v2", {9.0f}}});
    // Same key: replaced, not duplicated.
    db->PutFeatures({{b, kFace, "cmc", "v1", {0.4f, 0.5f, 0.6f}}});
  }
  auto db = Database::Open(dir / "db", false);  // durable across a reopen
  const std::vector<FeatureRecord> v1 = db->Features("cmc", "v1");
  ASSERT_EQ(v1.size(), 2u);
  EXPECT_EQ(v1[0].item, a);
  EXPECT_EQ(v1[0].vector, (std::vector<float>{0.5f, -0.25f, 1.0f}));
  EXPECT_EQ(v1[1].item, b);
  EXPECT_EQ(v1[1].vector, (std::vector<float>{0.4f, 0.5f, 0.6f}));
  EXPECT_EQ(db->Features("cmc", "v2").size(), 1u);
  EXPECT_TRUE(db->Features("land", "v1").empty());
  // All or nothing: one bad record (unknown item, NaN, empty) stores none of the batch.
  for (const FeatureRecord& bad :
       {FeatureRecord{999, kFace, "cmc", "v3", {1.0f}}, FeatureRecord{a, kFace, "cmc", "v3", {NAN}},
        FeatureRecord{a, kFace, "cmc", "v3", {}},
        FeatureRecord{a, {MarkType::kLand, 100}, "cmc", "v3", {1.0f}}}) {
    EXPECT_THROW(db->PutFeatures({{b, kFace, "cmc", "v3", {1.0f}}, bad}), Error);
    EXPECT_TRUE(db->Features("cmc", "v3").empty());
  }
}

TEST(Database, FeatureVectorsOfHalvesAreStoredInTwoBytesAValue) {
  testing::TempDir dir;
  ItemId a = kInvalidItemId;
  {
    auto db = Database::Open(dir / "db", true);
    a = db->Add(MakeItem(1), MakeSurface(1)).id;
    db->PutFeatures({{a, kFace, "cmc", "halves", {0.5f, -0.25f, 1.0f, 0.0f}},
                     {a, kFace, "cmc", "floats", {0.5f, 0.1f, 1.0f, 0.0f}}});
  }
  auto raw = testing::RawCatalog(dir / "db");
  const auto bytes = [&](const char* version) {
    const std::string n =
        testing::QueryOne(*raw, "SELECT length(vector) FROM features WHERE version = ?", {version});
    return n.empty() ? -1 : std::stoi(n);
  };
  EXPECT_EQ(bytes("halves"), 8);   // 4 halves
  EXPECT_EQ(bytes("floats"), 16);  // 0.1 is not a half: 4 float32
  {
    auto db = Database::Open(dir / "db", false);
    EXPECT_EQ(db->Features("cmc", "halves").at(0).vector, (std::vector<float>{0.5f, -0.25f, 1.0f, 0.0f}));
    EXPECT_EQ(db->Features("cmc", "floats").at(0).vector, (std::vector<float>{0.5f, 0.1f, 1.0f, 0.0f}));
  }
  // Damaged records, their checksums made to match: 3 bytes a value, and a
  // half that is infinity. Refused by name, not read as numbers.
  const auto damage = [&](const std::string& blob) {
    auto q = raw->Prepare("UPDATE features SET vector = ?, sha256 = ? WHERE version = 'halves'");
    q->BindBlob(1, blob.data(), blob.size());
    q->BindText(2, base::Sha256Hex(blob));
    EXPECT_FALSE(q->Step());
    EXPECT_EQ(q->Changes(), 1);
  };
  auto db = Database::Open(dir / "db", false);
  damage(std::string(12, '\x01'));
  EXPECT_THROW(db->Features("cmc", "halves"), Error);
  damage(std::string("\x00\x3c\x00\x7c\x00\x00\x00\x00", 8));
  EXPECT_THROW(db->Features("cmc", "halves"), Error);
}

TEST(Database, IntensitySurfacesKeepTheirKind) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  Surface s = MakeSurface(7);
  s.kind = SurfaceKind::kIntensity;
  const ItemId id = db->Add(MakeItem(8), s).id;
  EXPECT_EQ(db->Get(id)->surface_kind, "intensity");
  EXPECT_EQ(db->LoadSurface(id).kind, SurfaceKind::kIntensity);
}

TEST(Database, NewDatabasesGoToThisRunsCatalog) {
  testing::TempDir dir;
  auto db = Database::Open(dir / "db", true);
  // $TOOLMARK_CATALOG (tests/pg/with-postgres.sh --catalog) sends every new database to PostgreSQL.
  EXPECT_EQ(db->CatalogWhere().rfind(testing::PostgresRun() ? "postgresql" : "sqlite", 0), 0u)
      << db->CatalogWhere();
  EXPECT_EQ(std::filesystem::exists(dir / "db/catalog.sqlite"), !testing::PostgresRun());
}

TEST(Database, DamagedCatalogFilesAreRefusedInOneLine) {
  testing::TempDir dir;
  Database::Open(dir / "db", true);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"backend mysql\nconninfo postgresql:///x\nschema s\n", "backend 'mysql' is unknown"},
      {"backend postgresql\nconninfo postgresql:///x\n", "needs a conninfo and a schema line"},
      {"backend postgresql\nport 5432\n", "unknown line"},
      {"backend postgresql\nconninfo postgresql://u:pw@h/x\nschema s\n", "holds a password"},
      {std::string(5000, '#'), "over the limit"},
  };
  for (const auto& [text, why] : cases) {
    std::ofstream(dir / "db/CATALOG", std::ios::trunc) << text;
    try {
      Database::Open(dir / "db", false);
      ADD_FAILURE() << "opened with CATALOG " << text.substr(0, 40);
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(why), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(Database, PartnerEndpointsAreCheckedReplacedAndMigrated) {
  testing::TempDir dir;
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  {
    auto db = Database::Open(dir / "db", true);
    db->SetPartnerEndpoint({"DE", "https://de.example:8443", "", ""});
    db->SetPartnerEndpoint({"NL", "https://[::1]:9", pem, ""});
    db->SetPartnerEndpoint({"DE", "https://de2.example", "", ""});  // replaces DE's
    for (const char* bad : {"ftp://x", "https://", "https://x/path", "https://u@x", "https://x y",
                            "de.example:8443", "https://x?q"})
      EXPECT_THROW(db->SetPartnerEndpoint({"FR", bad, "", ""}), Error) << bad;
    EXPECT_THROW(db->SetPartnerEndpoint({"FR", "https://fr", "not pem", ""}), Error);
    EXPECT_THROW(db->SetPartnerEndpoint({"F R", "https://fr", "", ""}), Error);
    const std::vector<PartnerEndpoint> e = db->PartnerEndpoints();
    ASSERT_EQ(e.size(), 2u) << "refused endpoints store nothing";
    EXPECT_EQ(e[0].jurisdiction, "DE");
    EXPECT_EQ(e[0].url, "https://de2.example");
    EXPECT_EQ(e[1].tls_cert_pem, pem);
    EXPECT_FALSE(e[1].added_at.empty());
  }
  // A schema-8 catalog (before partner endpoints) is migrated on open.
  {
    auto raw = testing::RawCatalog(dir / "db");
    raw->Exec("DROP TABLE partner_endpoints");
    testing::SetSchemaVersion(*raw, 8);
  }
  auto db = Database::Open(dir / "db", false);
  EXPECT_TRUE(db->PartnerEndpoints().empty());
  db->SetPartnerEndpoint({"DE", "https://de.example", "", ""});
  EXPECT_EQ(db->PartnerEndpoints().size(), 1u);
}

}  // namespace
}  // namespace toolmark::index
