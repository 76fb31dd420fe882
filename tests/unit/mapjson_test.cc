// SPDX-License-Identifier: MIT
// bpftool map JSON: the forms bpftool prints on this machine (captured below), round trips, and
// every error message.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include "nicsim/mapjson.h"

namespace
{

// Captured from bpftool v7.1.0 on Linux 6.18: `bpftool -j map dump` of an array (key 4, value
// 8, 3 entries), a per-CPU array on 2 CPUs with BTF ("formatted"), a global data map with BTF,
// and a devmap with an empty slot.
const char kBpftoolArray[] =
    R"([{"key":["0x00","0x00","0x00","0x00"],"value":["0x00","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]},{"key":["0x01","0x00","0x00","0x00"],"value":["0xff","0x00","0x00","0x00","0x00","0x00","0x00","0x01"]},{"key":["0x02","0x00","0x00","0x00"],"value":["0x00","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]}])";
const char kBpftoolPercpuBtf[] =
    R"([{"key":["0x00","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0x00","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]},{"cpu":1,"value":["0x01","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]}],"formatted":{"key":0,"values":[{"cpu":0,"value":0},{"cpu":1,"value":1}]}},{"key":["0x01","0x00","0x00","0x00"],"values":[{"cpu":0,"value":["0x00","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]},{"cpu":1,"value":["0x00","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]}],"formatted":{"key":1,"values":[{"cpu":0,"value":0},{"cpu":1,"value":0}]}}])";
const char kBpftoolBss[] =
    R"([{"key":["0x00","0x00","0x00","0x00"],"value":["0x07","0x00","0x00","0x00","0x00","0x00","0x00","0x00"],"formatted":{"value":{".bss":[{"zz":7}]}}}])";
const char kBpftoolDevmap[] =
    R"([{"key":["0x00","0x00","0x00","0x00"],"value":["0x01","0x00","0x00","0x00"]},{"key":["0x01","0x00","0x00","0x00"],"value":{"error":"No such file or directory"}}])";
const char kBpftoolPercpuPlain[] =
    R"([{"key":["0x01","0x02"],"values":[{"cpu":0,"value":["0x09","0x00","0x00","0x00"]},{"cpu":1,"value":["0x09","0x00","0x00","0x00"]}]}])";

struct Parsed {
    struct nicsim_mapjson_entries e = {};
    int rc = 0;
    std::string err;
    ~Parsed() { nicsim_mapjson_entries__free(&e); }
};

nicsim_mapjson_layout Layout(uint32_t ks, uint32_t vs, bool per_cpu = false, uint32_t ncpus = 1,
                             const char *name = "flows")
{
    nicsim_mapjson_layout l = {};
    l.name = name;
    l.key_size = ks;
    l.value_size = vs;
    l.per_cpu = per_cpu;
    l.ncpus = ncpus;
    return l;
}

void Parse(const std::string &json, const nicsim_mapjson_layout &l, Parsed *p)
{
    char err[512] = "";
    p->rc = nicsim_mapjson__parse(json.c_str(), &l, &p->e, err, sizeof(err));
    p->err = err;
}

std::string Format(const nicsim_mapjson_layout &l, const nicsim_mapjson_entries &e,
                   unsigned flags = 0)
{
    char *s = nicsim_mapjson__format(&l, &e, flags);
    EXPECT_NE(s, nullptr);
    std::string out = s ? s : "";
    free(s);
    return out;
}

std::vector<uint8_t> Value(const nicsim_mapjson_entries &e, size_t i)
{
    const uint8_t *v = nicsim_mapjson_entries__value(&e, i);
    return std::vector<uint8_t>(v, v + e.value_stride);
}

std::vector<uint8_t> Key(const nicsim_mapjson_entries &e, size_t i)
{
    const uint8_t *k = nicsim_mapjson_entries__key(&e, i);
    return std::vector<uint8_t>(k, k + e.key_size);
}

// The message for a one-entry dump of a 4-byte-key, 4-byte-value map (per-CPU on 2 CPUs if
// asked), whose entry is `entry`.
std::string ErrorFor(const std::string &entry, bool per_cpu = false)
{
    Parsed p;
    Parse("[" + entry + "]", Layout(4, 4, per_cpu, 2), &p);
    EXPECT_EQ(p.rc, -EINVAL) << entry;
    return p.err;
}

const std::string kKey = R"("key":["0x01","0x00","0x00","0x00"])";
const std::string kVal = R"("value":["0x01","0x02","0x03","0x04"])";

TEST(MapjsonTest, ReadsBpftoolArrayDump)
{
    Parsed p;
    Parse(kBpftoolArray, Layout(4, 8, false, 0, "t_arr"), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(p.e.count, 3u);
    EXPECT_EQ(Key(p.e, 1), (std::vector<uint8_t>{1, 0, 0, 0}));
    EXPECT_EQ(Value(p.e, 1), (std::vector<uint8_t>{0xff, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(MapjsonTest, WritesExactlyWhatBpftoolPrints)
{
    Parsed p;
    nicsim_mapjson_layout l = Layout(4, 8);
    Parse(kBpftoolArray, l, &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    EXPECT_EQ(Format(l, p.e), std::string(kBpftoolArray) + "\n");

    Parsed q;
    nicsim_mapjson_layout lp = Layout(2, 4, true, 2);
    Parse(kBpftoolPercpuPlain, lp, &q);
    ASSERT_EQ(q.rc, 0) << q.err;
    EXPECT_EQ(Format(lp, q.e), std::string(kBpftoolPercpuPlain) + "\n");
}

TEST(MapjsonTest, ReadsPerCpuValuesAndIgnoresFormatted)
{
    Parsed p;
    Parse(kBpftoolPercpuBtf, Layout(4, 8, true, 2), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(p.e.count, 2u);
    ASSERT_EQ(p.e.value_stride, 16u);
    std::vector<uint8_t> want(16, 0);
    want[8] = 1; // cpu 1's value is 1
    EXPECT_EQ(Value(p.e, 0), want);
    EXPECT_EQ(Value(p.e, 1), std::vector<uint8_t>(16, 0));
}

TEST(MapjsonTest, ReadsGlobalDataDumpWithBtf)
{
    Parsed p;
    Parse(kBpftoolBss, Layout(4, 8, false, 0, ".bss"), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(p.e.count, 1u);
    EXPECT_EQ(Value(p.e, 0)[0], 7);
}

TEST(MapjsonTest, SkipsSlotsBpftoolCouldNotRead)
{
    Parsed p;
    Parse(kBpftoolDevmap, Layout(4, 4), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(p.e.count, 1u);
    EXPECT_EQ(Key(p.e, 0), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST(MapjsonTest, PlainValueSetsEveryCpu)
{
    Parsed p;
    Parse("[{" + kKey + "," + kVal + "}]", Layout(4, 4, true, 3), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    EXPECT_EQ(Value(p.e, 0), (std::vector<uint8_t>{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}));
}

TEST(MapjsonTest, CpusNotNamedAreZero)
{
    Parsed p;
    Parse("[{" + kKey + R"(,"values":[{"cpu":2,"value":["0x05","0x00","0x00","0x00"]}]}])",
          Layout(4, 4, true, 3), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    EXPECT_EQ(Value(p.e, 0), (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0}));
}

TEST(MapjsonTest, AcceptsEveryByteSpelling)
{
    Parsed p;
    Parse("[{" + kKey + R"(,"value":["0x2A","0xa","42",255]}])", Layout(4, 4), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    EXPECT_EQ(Value(p.e, 0), (std::vector<uint8_t>{0x2a, 0x0a, 42, 255}));
}

TEST(MapjsonTest, RoundTripsCompactAndPretty)
{
    for (bool per_cpu : {false, true}) {
        nicsim_mapjson_layout l = Layout(3, 5, per_cpu, 4);
        nicsim_mapjson_entries e;
        nicsim_mapjson_entries__init(&e, &l);
        for (int i = 0; i < 40; i++) {
            uint8_t key[3] = {(uint8_t)i, (uint8_t)(i * 7), 0xff};
            std::vector<uint8_t> v(e.value_stride);
            for (size_t j = 0; j < v.size(); j++)
                v[j] = (uint8_t)(i * 31 + j);
            ASSERT_EQ(nicsim_mapjson_entries__append(&e, key, v.data()), 0);
        }
        for (unsigned flags : {0u, (unsigned)NICSIM_MAPJSON_PRETTY}) {
            std::string s = Format(l, e, flags);
            EXPECT_EQ(s.find('\n') != s.size() - 1, flags != 0) << s.substr(0, 80);
            Parsed p;
            Parse(s, l, &p);
            ASSERT_EQ(p.rc, 0) << p.err;
            ASSERT_EQ(p.e.count, e.count);
            EXPECT_EQ(memcmp(p.e.keys, e.keys, e.count * e.key_size), 0);
            EXPECT_EQ(memcmp(p.e.values, e.values, e.count * e.value_stride), 0);
        }
        nicsim_mapjson_entries__free(&e);
    }
}

TEST(MapjsonTest, EmptyDumpRoundTrips)
{
    nicsim_mapjson_layout l = Layout(4, 4);
    nicsim_mapjson_entries e;
    nicsim_mapjson_entries__init(&e, &l);
    EXPECT_EQ(Format(l, e), "[]\n");
    Parsed p;
    Parse("[]", l, &p);
    EXPECT_EQ(p.rc, 0);
    EXPECT_EQ(p.e.count, 0u);
}

TEST(MapjsonTest, FindLocatesKeys)
{
    Parsed p;
    Parse(kBpftoolArray, Layout(4, 8), &p);
    ASSERT_EQ(p.rc, 0);
    uint8_t k2[4] = {2, 0, 0, 0}, k9[4] = {9, 0, 0, 0};
    EXPECT_EQ(nicsim_mapjson_entries__find(&p.e, k2), 2);
    EXPECT_EQ(nicsim_mapjson_entries__find(&p.e, k9), -1);
}

TEST(MapjsonTest, FileRoundTripAndMessagesNameThePath)
{
    char path[] = "/tmp/nicsim_mapjson_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    Parsed p;
    nicsim_mapjson_layout l = Layout(4, 8);
    Parse(kBpftoolArray, l, &p);
    ASSERT_EQ(p.rc, 0);
    char err[512] = "";
    ASSERT_EQ(nicsim_mapjson__write_file(path, &l, &p.e, NICSIM_MAPJSON_PRETTY, err, sizeof(err)),
              0)
        << err;
    nicsim_mapjson_entries back;
    ASSERT_EQ(nicsim_mapjson__read_file(path, &l, &back, err, sizeof(err)), 0) << err;
    EXPECT_EQ(back.count, 3u);
    EXPECT_EQ(memcmp(back.values, p.e.values, 3 * 8), 0);
    nicsim_mapjson_entries__free(&back);

    nicsim_mapjson_layout l5 = Layout(5, 8);
    EXPECT_EQ(nicsim_mapjson__read_file(path, &l5, &back, err, sizeof(err)), -EINVAL);
    EXPECT_EQ(std::string(err),
              std::string(path) + ": entry 0: key has 4 bytes, map 'flows' has key_size 5");
    nicsim_mapjson_entries__free(&back);
    unlink(path);

    EXPECT_EQ(nicsim_mapjson__read_file(path, &l, &back, err, sizeof(err)), -ENOENT);
    EXPECT_EQ(std::string(err), std::string(path) + ": No such file or directory");
    EXPECT_EQ(nicsim_mapjson__write_file("/nonexistent/dir/x.json", &l, &p.e, 0, err, sizeof(err)),
              -ENOENT);
    EXPECT_EQ(std::string(err), "/nonexistent/dir/x.json: No such file or directory");
}

TEST(MapjsonTest, FormatRefusesEntriesOfAnotherLayout)
{
    nicsim_mapjson_layout l4 = Layout(4, 4), l8 = Layout(4, 8);
    nicsim_mapjson_entries e;
    nicsim_mapjson_entries__init(&e, &l4);
    errno = 0;
    EXPECT_EQ(nicsim_mapjson__format(&l8, &e, 0), nullptr);
    EXPECT_EQ(errno, EINVAL);
}

TEST(MapjsonTest, SyntaxErrorsGiveLineAndColumn)
{
    Parsed p;
    Parse("[\n{\"key\": [}\n]", Layout(4, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.err.rfind("line 2, column ", 0), 0u) << p.err;
}

TEST(MapjsonTest, RefusesBadLayouts)
{
    Parsed p;
    Parse("[]", Layout(0, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.err, "map 'flows' has key_size 0 and value_size 4; both must be > 0");
    Parsed q;
    Parse("[]", Layout(4, 4, true, 0), &q);
    EXPECT_EQ(q.rc, -EINVAL);
    EXPECT_EQ(q.err, "map 'flows' is per-CPU but has 0 CPUs");
}

TEST(MapjsonTest, MessagesForTheDocumentShape)
{
    Parsed p;
    Parse("{}", Layout(4, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.err, "expected a JSON array of entries (as `bpftool -j map dump` prints)");
    EXPECT_EQ(ErrorFor("7"), "entry 0: not an object with 'key' and 'value'");
    EXPECT_EQ(ErrorFor("{" + kVal + "}"), "entry 0: no 'key'");
    EXPECT_EQ(ErrorFor("{\"key\":\"0x01\"," + kVal + "}"), "entry 0: key is not an array of bytes");
    EXPECT_EQ(ErrorFor("{" + kKey + "}"), "entry 0: no 'value'");
    EXPECT_EQ(ErrorFor("{" + kKey + "}", true), "entry 0: no 'value' or 'values'");
}

// Maps of maps: with a value_name function, a value may be a map's name, turned into its bytes;
// without one a string value stays an error.
int NameToId(void *, const char *name, uint8_t *value, char *err, size_t errlen)
{
    if (std::string(name) != "inner_a") {
        snprintf(err, errlen, "no map named '%s'", name);
        return -ENOENT;
    }
    const uint8_t id[4] = {7, 0, 0, 0};
    memcpy(value, id, 4);
    return 0;
}

TEST(MapjsonTest, MapOfMapsValuesMayNameMaps)
{
    nicsim_mapjson_layout l = Layout(4, 4);
    l.value_name = NameToId;
    Parsed p;
    Parse("[{" + kKey + R"(,"value":"inner_a"},{"key":[2,0,0,0],"value":[9,0,0,0]}])", l, &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(p.e.count, 2u);
    EXPECT_EQ(Value(p.e, 0), (std::vector<uint8_t>{7, 0, 0, 0}));
    EXPECT_EQ(Value(p.e, 1), (std::vector<uint8_t>{9, 0, 0, 0})) << "an id as bpftool prints it";
    Parsed q;
    Parse("[{" + kKey + R"(,"value":"inner_z"}])", l, &q);
    EXPECT_EQ(q.rc, -ENOENT);
    EXPECT_EQ(q.err, "entry 0: value 'inner_z': no map named 'inner_z'");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":"inner_a"})"),
              "entry 0: value is not an array of bytes");
}

TEST(MapjsonTest, MessagesForKeysAndValues)
{
    Parsed p;
    Parse(R"([{"key":["0x01","0x00","0x00","0x00"],"value":["0x00","0x00","0x00","0x00"]},
              {"key":["0x02","0x00","0x00","0x00"],"value":["0x00","0x00","0x00","0x00"]},
              {"key":["0x03","0x00","0x00","0x00"],"value":["0x00","0x00","0x00","0x00"]},
              {"key":["0x04","0x00","0x00"],"value":["0x00","0x00","0x00","0x00"]}])",
          Layout(4, 4), &p);
    EXPECT_EQ(p.err, "entry 3: key has 3 bytes, map 'flows' has key_size 4");
    EXPECT_EQ(ErrorFor(R"({"key":["0x01","0xzz","0x00","0x00"],)" + kVal + "}"),
              "entry 0: key[1]: '0xzz' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":["0x00","0x00","0xzz","0x00"]})"),
              "entry 0: value[2]: '0xzz' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":["0x00"]})"),
              "entry 0: value has 1 byte, map 'flows' has value_size 4");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":"0x00"})"),
              "entry 0: value is not an array of bytes");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[256,0,0,0]})"),
              "entry 0: value[0]: 256 is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[0,-1,0,0]})"),
              "entry 0: value[1]: -1 is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[0,0,"0x100",0]})"),
              "entry 0: value[2]: '0x100' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[0,0,0,"256"]})"),
              "entry 0: value[3]: '256' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[0,0,0,""]})"),
              "entry 0: value[3]: '' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[0,0,0,"0x"]})"),
              "entry 0: value[3]: '0x' is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[true,0,0,0]})"),
              "entry 0: value[0]: true is not a byte");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"value":[1.5,0,0,0]})"),
              "entry 0: value[0]: 1.5 is not a byte");
}

TEST(MapjsonTest, MessageForDuplicateKeys)
{
    Parsed p;
    Parse("[{" + kKey + "," + kVal + R"(},{"key":["0x02","0x00","0x00","0x00"],)" + kVal + "},{" +
              kKey + "," + kVal + "}]",
          Layout(4, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.err, "entry 2: key duplicates entry 0");
}

TEST(MapjsonTest, MessagesForPerCpuValues)
{
    const std::string v4 = R"(["0x00","0x00","0x00","0x00"])";
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":0,"value":)" + v4 + "}]}", false),
              "entry 0: 'values' (per-CPU values) given, but map 'flows' is not per-CPU");
    EXPECT_EQ(ErrorFor("{" + kKey + "," + kVal + R"(,"values":[]})", true),
              "entry 0: both 'value' and 'values'; give one");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":{}})", true),
              "entry 0: values is not an array of {\"cpu\", \"value\"} objects");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[3]})", true),
              "entry 0: values[0]: not an object");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"value":)" + v4 + "}]}", true),
              "entry 0: values[0]: no 'cpu'");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":"0","value":)" + v4 + "}]}", true),
              "entry 0: values[0]: cpu is not an integer");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":5,"value":)" + v4 + "}]}", true),
              "entry 0: values[0]: cpu 5 is out of range, map 'flows' has 2 CPUs");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":1,"value":)" + v4 +
                           R"(},{"cpu":1,"value":)" + v4 + "}]}",
                       true),
              "entry 0: values[1]: cpu 1 appears twice");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":0}]})", true),
              "entry 0: values[0]: no 'value'");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":0,"value":["0x00"]}]})", true),
              "entry 0: values[0].value has 1 byte, map 'flows' has value_size 4");
    EXPECT_EQ(ErrorFor("{" + kKey + R"(,"values":[{"cpu":0,"value":)" + v4 +
                           R"(},{"cpu":1,"value":["0x00","0xzz","0x00","0x00"]}]})",
                       true),
              "entry 0: values[1].value[1]: '0xzz' is not a byte");
}

} // namespace

namespace
{

// Issue 7.3: a dump that fails after its first entries leaves nothing allocated behind.
TEST(MapjsonTest, FailureLeavesNoEntriesBehind)
{
    Parsed p;
    Parse("[{" + kKey + "," + kVal + R"(},{"key":["0x02","0x00","0x00","0x00"],)" + kVal +
              R"(},{"key":["0x03"],)" + kVal + "}]",
          Layout(4, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.e.count, 0u);
    EXPECT_EQ(p.e.keys, nullptr) << "the entries read before the failing one were kept";
    EXPECT_EQ(p.e.values, nullptr);
}

std::string BigDump(size_t n, long dup_of = -1)
{
    std::string s = "[";
    char buf[160];
    for (size_t i = 0; i <= n; i++) {
        if (i == n && dup_of < 0)
            break;
        uint32_t k = (uint32_t)(i == n ? (size_t)dup_of : i) * 2654435761u;
        snprintf(buf, sizeof(buf),
                 "%s{\"key\":[\"0x%02x\",\"0x%02x\",\"0x%02x\",\"0x%02x\"],\"value\":[\"0x01\","
                 "\"0x00\",\"0x00\",\"0x00\"]}",
                 i ? ",\n" : "", k & 255, (k >> 8) & 255, (k >> 16) & 255, k >> 24);
        s += buf;
    }
    return s + "]";
}

// Issue 7.4: duplicate keys are found through a hash, not a search of every earlier entry (which
// took 3.4 s for 40,000 entries and minutes for 200,000).
TEST(MapjsonTest, TwoHundredThousandEntriesReadInSeconds)
{
    const size_t n = 200000;
    std::string dump = BigDump(n);
    time_t t0 = time(nullptr);
    Parsed p;
    Parse(dump, Layout(4, 4), &p);
    EXPECT_EQ(p.rc, 0) << p.err;
    EXPECT_EQ(p.e.count, n);
    EXPECT_LE(time(nullptr) - t0, 20) << "seconds to read " << n << " entries";
    Parsed d;
    Parse(BigDump(n, 123457), Layout(4, 4), &d);
    EXPECT_EQ(d.rc, -EINVAL);
    EXPECT_EQ(d.err, "entry 200000: key duplicates entry 123457");
}

TEST(MapjsonTest, MoreEntriesThanMaxEntriesAreRefused)
{
    nicsim_mapjson_layout l = Layout(4, 4);
    l.max_entries = 2;
    Parsed p;
    Parse(BigDump(3), l, &p);
    EXPECT_EQ(p.rc, -E2BIG);
    EXPECT_EQ(p.err, "entry 2: map 'flows' holds at most 2 entries (max_entries)");
    Parsed ok;
    Parse(BigDump(2), l, &ok);
    EXPECT_EQ(ok.rc, 0) << ok.err;
}

TEST(MapjsonTest, SyntaxErrorsInLaterEntriesGiveTheirLine)
{
    Parsed p;
    Parse("[{" + kKey + "," + kVal + "},\n  {\"key\": [}\n]", Layout(4, 4), &p);
    EXPECT_EQ(p.rc, -EINVAL);
    EXPECT_EQ(p.err.rfind("line 2, column ", 0), 0u) << p.err;
    Parsed t;
    Parse("[] x", Layout(4, 4), &t);
    EXPECT_EQ(t.rc, -EINVAL);
    EXPECT_NE(t.err.find("line 1"), std::string::npos) << t.err;
    Parsed c;
    Parse("[{" + kKey + "," + kVal + "} {" + kKey + "," + kVal + "}]", Layout(4, 4), &c);
    EXPECT_EQ(c.rc, -EINVAL);
    EXPECT_NE(c.err.find("expected ',' or ']' after entry 0"), std::string::npos) << c.err;
}

// Issue 7.5: the file is read up to what a dump of the map can take, and no further.
TEST(MapjsonTest, FileReadsStopAtWhatTheMapCanHold)
{
    nicsim_mapjson_layout l = Layout(4, 4);
    l.max_entries = 16;
    uint64_t limit = nicsim_mapjson_layout__file_limit(&l);
    EXPECT_EQ(limit, NICSIM_MAPJSON_FILE_BASE +
                         16 * (8 * NICSIM_MAPJSON_BYTES_PER_BYTE + NICSIM_MAPJSON_ENTRY_BYTES));
    char path[] = "/tmp/mapjson-test-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    std::string big = "[" + std::string(limit, ' ') + "]";
    ASSERT_EQ(write(fd, big.data(), big.size()), (ssize_t)big.size());
    close(fd);
    nicsim_mapjson_entries e;
    char err[512];
    EXPECT_EQ(nicsim_mapjson__read_file(path, &l, &e, err, sizeof(err)), -EFBIG);
    EXPECT_NE(std::string(err).find("the most a dump of map 'flows' can take"), std::string::npos)
        << err;
    unlink(path);
    EXPECT_EQ(nicsim_mapjson__read_file("/dev/zero", &l, &e, err, sizeof(err)), -EINVAL);
    EXPECT_NE(std::string(err).find("NUL byte at offset 0"), std::string::npos) << err;
    EXPECT_EQ(nicsim_mapjson__read_file("/tmp", &l, &e, err, sizeof(err)), -EISDIR);
    EXPECT_NE(std::string(err).find("is a directory"), std::string::npos) << err;
}

} // namespace

namespace
{

// Finding keys of one dump in another (the kernel comparison of a hash map) is a hash lookup once
// the index is built, and the index follows later appends.
TEST(MapjsonTest, IndexedFindIsConstantTimeAndFollowsAppends)
{
    const size_t n = 200000;
    Parsed p;
    Parse(BigDump(n), Layout(4, 4), &p);
    ASSERT_EQ(p.rc, 0) << p.err;
    ASSERT_EQ(nicsim_mapjson_entries__index(&p.e), 0);
    time_t t0 = time(nullptr);
    for (size_t i = n; i-- > 0;) {
        std::vector<uint8_t> k = Key(p.e, i);
        ASSERT_EQ(nicsim_mapjson_entries__find(&p.e, k.data()), (long)i);
    }
    EXPECT_LE(time(nullptr) - t0, 20) << "seconds to find " << n << " keys";
    const uint8_t nk[4] = {9, 9, 9, 9}, v[4] = {1, 2, 3, 4};
    EXPECT_EQ(nicsim_mapjson_entries__find(&p.e, nk), -1);
    for (int j = 0; j < 5000; j++) {
        uint8_t k2[4] = {(uint8_t)j, (uint8_t)(j >> 8), 0xee, 0xee};
        ASSERT_EQ(nicsim_mapjson_entries__append(&p.e, k2, v), 0);
        ASSERT_EQ(nicsim_mapjson_entries__find(&p.e, k2), (long)(n + j));
    }
}

} // namespace
