// An independent DDS peer for Kestrel's DDS transport tests and bench: eProsima Fast DDS 2.9 (Debian libfastrtps-dev),
// the default middleware of ROS 2 Humble, serializing with Fast CDR the way fastddsgen's generated code does.
// It speaks the ROS 2 wire conventions (rt/<topic>, <pkg>::msg::dds_::<Type>_, XCDR1 CDR_LE) and is driven by lines on
// stdin; it reports one JSON object a line on stdout. Commands:
//   sub  <topic> <ros_type> <reliable|best_effort> [transient_local]   print every sample, decoded with Fast CDR
//   pub  <topic> <ros_type> <qos> <count> <first>             wait for a match, then publish <count> samples (i = first..)
//   raw  <topic> <dds_type_name> <qos> <wait_ms> <hex>        wait up to wait_ms for a match, publish these exact bytes
//   echo <in> <out> <dds_type_name> <qos>                     republish every sample's bytes unchanged (bench)
//   ping <out> <in> <dds_type_name> <qos> <count> <bytes>     round trips through an echo, then the latencies
//   flood <topic> <dds_type_name> <qos> <count> <bytes>       publish <count> String samples back to back (bench)
//   count <topic> <dds_type_name> <qos> <count>               report when <count> samples arrived, and how fast
//   report                                                    how many the last `count` reader got so far, first to last
//   quit
// Usage: fastdds_peer <domain> [loopback|localhost_only]. loopback (the default): UDPv4 on 127.0.0.1 only, initial
// peers 127.0.0.1, no shared memory. localhost_only: what rmw_fastrtps_cpp (Humble) does under ROS_LOCALHOST_ONLY=1,
// no more: builtin transports off, one UDPv4 transport whitelisted to 127.0.0.1, Fast DDS's default discovery.
#include <fastcdr/Cdr.h>
#include <fastcdr/FastBuffer.h>
#include <fastcdr/exceptions/Exception.h>
#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/DataReaderListener.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/topic/TopicDataType.hpp>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>
#include <fastrtps/utils/IPLocator.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace eprosima::fastdds::dds;
using eprosima::fastrtps::rtps::SerializedPayload_t;
using Bytes = std::vector<uint8_t>;
using Clock = std::chrono::steady_clock;

static std::mutex out_mutex;
static void emit(const std::string& json) {
  std::lock_guard<std::mutex> lock(out_mutex);
  std::cout << json << "\n" << std::flush;
}

static std::string jstr(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += static_cast<char>(c); }
    else if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
    else o += static_cast<char>(c);
  }
  return o + "\"";
}
static std::string jnum(double v) { char b[40]; std::snprintf(b, sizeof b, "%.17g", v); return b; }

// A type whose samples are the serialized bytes themselves (encapsulation header included), like rmw's serialized
// publish/take. The ROS 2 content is written and read with Fast CDR below.
class RawType : public TopicDataType {
 public:
  explicit RawType(const std::string& name) {
    setName(name.c_str());
    m_typeSize = 1 << 16;
    m_isGetKeyDefined = false;
  }
  bool serialize(void* data, SerializedPayload_t* payload) override {
    auto* v = static_cast<Bytes*>(data);
    if (v->size() > payload->max_size) return false;
    std::memcpy(payload->data, v->data(), v->size());
    payload->length = static_cast<uint32_t>(v->size());
    if (v->size() >= 2) payload->encapsulation = (*v)[1] == 1 ? CDR_LE : CDR_BE;
    return true;
  }
  bool deserialize(SerializedPayload_t* payload, void* data) override {
    auto* v = static_cast<Bytes*>(data);
    v->assign(payload->data, payload->data + payload->length);
    return true;
  }
  std::function<uint32_t()> getSerializedSizeProvider(void* data) override {
    return [data]() { return static_cast<uint32_t>(static_cast<Bytes*>(data)->size()); };
  }
  void* createData() override { return new Bytes(); }
  void deleteData(void* data) override { delete static_cast<Bytes*>(data); }
  bool getKey(void*, eprosima::fastrtps::rtps::InstanceHandle_t*, bool) override { return false; }
};

static std::string dds_type_name(const std::string& ros) {  // std_msgs/msg/String -> std_msgs::msg::dds_::String_
  auto a = ros.find('/'), b = ros.rfind('/');
  return ros.substr(0, a) + "::msg::dds_::" + ros.substr(b + 1) + "_";
}

// ---- the three ROS 2 types, written and read with Fast CDR (XCDR1, as fastddsgen 2.x generates)
using eprosima::fastcdr::Cdr;
struct Writer {
  std::vector<char> buf = std::vector<char>(1 << 16);
  eprosima::fastcdr::FastBuffer fb{buf.data(), buf.size()};
  Cdr cdr{fb, Cdr::LITTLE_ENDIANNESS, Cdr::DDS_CDR};
  Writer() { cdr.serialize_encapsulation(); }
  Bytes bytes() { return Bytes(buf.begin(), buf.begin() + static_cast<long>(cdr.getSerializedDataLength())); }
};
static void w_header(Cdr& c, int32_t sec, uint32_t nsec, const std::string& frame) { c << sec << nsec << frame; }
static std::string r_header(Cdr& c) {
  int32_t sec; uint32_t nsec; std::string frame;
  c >> sec >> nsec >> frame;
  return "{\"stamp\":{\"sec\":" + std::to_string(sec) + ",\"nanosec\":" + std::to_string(nsec) + "},\"frame_id\":" + jstr(frame) + "}";
}
static std::string r_vec3(Cdr& c, const char* a, const char* b, const char* d) {
  double x, y, z; c >> x >> y >> z;
  return std::string("{\"") + a + "\":" + jnum(x) + ",\"" + b + "\":" + jnum(y) + ",\"" + d + "\":" + jnum(z) + "}";
}
static std::string r_cov(Cdr& c) {
  std::array<double, 9> v; c >> v;
  std::string o = "[";
  for (size_t k = 0; k < 9; k++) o += (k ? "," : "") + jnum(v[k]);
  return o + "]";
}

// The sample contents both sides agree on (runtime/transport/dds/interop/samples.ts builds the same).
static Bytes make_sample(const std::string& type, int i) {
  Writer w;
  Cdr& c = w.cdr;
  if (type == "std_msgs/msg/String") {
    c << ("fastdds #" + std::to_string(i) + " Zürich");
  } else if (type == "sensor_msgs/msg/Imu") {
    w_header(c, i, 500, "imu_link");
    c << 0.1 * i << 0.2 << 0.3 << 0.9;
    std::array<double, 9> cov{};
    for (int k = 0; k < 9; k++) cov[k] = k * 0.5;
    c << cov << 1.0 << 2.0 << static_cast<double>(i) << cov;
    c << 0.0 << 0.0 << 9.81 << cov;
  } else if (type == "kestrel_msgs/msg/Alert") {
    w_header(c, i, 0, "map");
    c << ("r1_" + std::to_string(i)) << (i % 2 == 0) << std::string("warn") << std::string("hover") << std::string("count > 10");
    c << 10.5 + i;
    std::vector<uint32_t> ids{static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1), 7u};
    c << ids;
  } else {
    throw std::runtime_error("unknown type " + type);
  }
  return w.bytes();
}

static std::string decode(const std::string& type, Bytes& b) {
  eprosima::fastcdr::FastBuffer fb(reinterpret_cast<char*>(b.data()), b.size());
  Cdr c(fb, Cdr::DEFAULT_ENDIAN, Cdr::DDS_CDR);
  c.read_encapsulation();
  if (type == "std_msgs/msg/String") {
    std::string s; c >> s;
    return "{\"data\":" + jstr(s) + "}";
  }
  if (type == "sensor_msgs/msg/Imu") {
    std::string h = r_header(c);
    double x, y, z, w; c >> x >> y >> z >> w;
    std::string o = "{\"header\":" + h + ",\"orientation\":{\"x\":" + jnum(x) + ",\"y\":" + jnum(y) + ",\"z\":" + jnum(z) + ",\"w\":" + jnum(w) + "}";
    // One read a statement: the operands of + are evaluated in no fixed order, the fields must be read in order.
    o += ",\"orientation_covariance\":" + r_cov(c);
    o += ",\"angular_velocity\":" + r_vec3(c, "x", "y", "z");
    o += ",\"angular_velocity_covariance\":" + r_cov(c);
    o += ",\"linear_acceleration\":" + r_vec3(c, "x", "y", "z");
    o += ",\"linear_acceleration_covariance\":" + r_cov(c);
    return o + "}";
  }
  if (type == "kestrel_msgs/msg/Alert") {
    std::string h = r_header(c);
    std::string rule, sev, reaction, message; bool active; double value; std::vector<uint32_t> ids;
    c >> rule >> active >> sev >> reaction >> message >> value >> ids;
    std::string o = "{\"header\":" + h + ",\"rule_id\":" + jstr(rule) + ",\"active\":" + (active ? "true" : "false");
    o += ",\"severity\":" + jstr(sev) + ",\"reaction\":" + jstr(reaction) + ",\"message\":" + jstr(message) + ",\"value\":" + jnum(value) + ",\"track_ids\":[";
    for (size_t k = 0; k < ids.size(); k++) o += (k ? "," : "") + std::to_string(ids[k]);
    return o + "]}";
  }
  if (type == "rmw_dds_common/msg/ParticipantEntitiesInfo") {  // ros_discovery_info (Humble: 24-byte GIDs)
    auto gid = [&c]() { std::array<uint8_t, 24> g; c >> g; char h[3]; std::string o; for (int k = 0; k < 16; k++) { std::snprintf(h, 3, "%02x", g[k]); o += h; } return o; };
    std::string o = "{\"gid\":" + jstr(gid()) + ",\"nodes\":[";
    uint32_t n; c >> n;
    for (uint32_t k = 0; k < n; k++) {
      std::string ns, name; c >> ns >> name;
      uint32_t nr; c >> nr; std::string readers;
      for (uint32_t r = 0; r < nr; r++) readers += (r ? "," : "") + jstr(gid());
      uint32_t nw; c >> nw; std::string writers;
      for (uint32_t w = 0; w < nw; w++) writers += (w ? "," : "") + jstr(gid());
      o += std::string(k ? "," : "") + "{\"namespace\":" + jstr(ns) + ",\"name\":" + jstr(name) + ",\"readers\":[" + readers + "],\"writers\":[" + writers + "]}";
    }
    return o + "]}";
  }
  return "null";
}

// ---- DDS plumbing
static DomainParticipant* participant = nullptr;
static Publisher* publisher = nullptr;
static Subscriber* subscriber = nullptr;
static std::map<std::string, Topic*> topics;
static std::map<std::string, DataWriter*> writers;
static std::vector<std::unique_ptr<DataReaderListener>> listeners;
static std::function<void()> last_count;

static Topic* topic_for(const std::string& name, const std::string& type_name) {
  auto key = name + "|" + type_name;
  auto it = topics.find(key);
  if (it != topics.end()) return it->second;
  TypeSupport ts(new RawType(type_name));
  ts.register_type(participant);  // a second registration of the same name is refused, harmlessly
  // Fast DDS allows one Topic per name in a participant: a bad-type test uses a second participant-free name.
  Topic* t = participant->create_topic(name, type_name, TOPIC_QOS_DEFAULT);
  if (!t) throw std::runtime_error("create_topic " + name + " (" + type_name + ") failed");
  topics[key] = t;
  return t;
}

static void set_reliability(DataWriterQos& q, const std::string& rel) {
  q.reliability().kind = rel == "reliable" ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
  q.durability().kind = VOLATILE_DURABILITY_QOS;  // Fast DDS defaults writers to TRANSIENT_LOCAL; ROS 2 profiles say volatile
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = 1000;
}
static void set_reliability(DataReaderQos& q, const std::string& rel, bool transient_local = false) {
  q.reliability().kind = rel == "reliable" ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
  q.durability().kind = transient_local ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = 1000;
}

static DataWriter* writer_for(const std::string& topic, const std::string& type_name, const std::string& rel) {
  auto key = topic + "|" + type_name + "|" + rel;
  auto it = writers.find(key);
  if (it != writers.end()) return it->second;
  DataWriterQos q = DATAWRITER_QOS_DEFAULT;
  set_reliability(q, rel);
  DataWriter* w = publisher->create_datawriter(topic_for(topic, type_name), q);
  if (!w) throw std::runtime_error("create_datawriter " + topic + " failed");
  writers[key] = w;
  return w;
}

static int wait_matched(DataWriter* w, int ms) {
  PublicationMatchedStatus st;
  auto until = Clock::now() + std::chrono::milliseconds(ms);
  do {
    w->get_publication_matched_status(st);
    if (st.current_count > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (Clock::now() < until);
  return st.current_count;
}

class Listener : public DataReaderListener {
 public:
  std::function<void(Bytes&)> on_bytes;
  void on_data_available(DataReader* r) override {
    Bytes b;
    SampleInfo info;
    while (r->take_next_sample(&b, &info) == ReturnCode_t::RETCODE_OK) {
      if (info.valid_data) on_bytes(b);
    }
  }
  void on_subscription_matched(DataReader* r, const SubscriptionMatchedStatus& s) override {
    emit("{\"ev\":\"matched\",\"topic\":" + jstr(r->get_topicdescription()->get_name()) + ",\"count\":" + std::to_string(s.current_count) + "}");
  }
};

static void reader(const std::string& topic, const std::string& type_name, const std::string& rel, std::function<void(Bytes&)> fn, bool transient_local = false) {
  DataReaderQos q = DATAREADER_QOS_DEFAULT;
  set_reliability(q, rel, transient_local);
  auto l = std::make_unique<Listener>();
  l->on_bytes = std::move(fn);
  if (!subscriber->create_datareader(topic_for(topic, type_name), q, l.get())) throw std::runtime_error("create_datareader " + topic + " failed");
  listeners.push_back(std::move(l));
}

static Bytes unhex(const std::string& h) {
  Bytes b;
  for (size_t k = 0; k + 1 < h.size(); k += 2) b.push_back(static_cast<uint8_t>(std::stoi(h.substr(k, 2), nullptr, 16)));
  return b;
}

static Bytes string_of_size(size_t n, int i) {
  Writer w;
  std::string s(n > 8 ? n - 8 : 1, 'x');
  std::snprintf(&s[0], s.size(), "%d", i);
  w.cdr << s;
  return w.bytes();
}

int main(int argc, char** argv) {
  int domain = argc > 1 ? std::atoi(argv[1]) : 0;
  bool localhost_only = argc > 2 && std::string(argv[2]) == "localhost_only";
  DomainParticipantQos pq = PARTICIPANT_QOS_DEFAULT;
  pq.name("kestrel_fastdds_peer");
  pq.transport().use_builtin_transports = false;
  auto udp = std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>();
  udp->interfaceWhiteList.push_back("127.0.0.1");
  pq.transport().user_transports.push_back(udp);
  if (!localhost_only) {
  eprosima::fastrtps::rtps::Locator_t peer;
  eprosima::fastrtps::rtps::IPLocator::setIPv4(peer, 127, 0, 0, 1);
  pq.wire_protocol().builtin.initialPeersList.push_back(peer);
  pq.wire_protocol().builtin.discovery_config.initial_announcements.count = 10;
  pq.wire_protocol().builtin.discovery_config.initial_announcements.period = {0, 100000000};
  }
  participant = DomainParticipantFactory::get_instance()->create_participant(domain, pq);
  if (!participant) { emit("{\"ev\":\"fatal\",\"what\":\"create_participant failed\"}"); return 1; }
  publisher = participant->create_publisher(PUBLISHER_QOS_DEFAULT);
  subscriber = participant->create_subscriber(SUBSCRIBER_QOS_DEFAULT);
  emit("{\"ev\":\"ready\",\"domain\":" + std::to_string(domain) + ",\"config\":\"" + (localhost_only ? "localhost_only" : "loopback") + "\"}");

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    try {
      if (cmd == "quit") break;
      if (cmd == "sub") {
        std::string topic, type, rel, durability; in >> topic >> type >> rel >> durability;
        reader(topic, dds_type_name(type), rel, [topic, type](Bytes& b) {
          try {
            emit("{\"ev\":\"recv\",\"topic\":" + jstr(topic) + ",\"msg\":" + decode(type, b) + "}");
          } catch (const eprosima::fastcdr::exception::Exception& e) {
            emit("{\"ev\":\"decode_error\",\"topic\":" + jstr(topic) + ",\"what\":" + jstr(e.what()) + "}");
          }
        }, durability == "transient_local");
        emit("{\"ev\":\"ok\",\"cmd\":\"sub\",\"topic\":" + jstr(topic) + "}");
      } else if (cmd == "pub") {
        std::string topic, type, rel; int count = 1, first = 0; in >> topic >> type >> rel >> count >> first;
        DataWriter* w = writer_for(topic, dds_type_name(type), rel);
        int matched = wait_matched(w, 8000);
        // A just-matched reliable reader may not have acknowledged the writer's first heartbeat yet; a short pause keeps
        // a best-effort burst from landing before the reader's side of the match is complete.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        for (int i = first; i < first + count; i++) {
          Bytes b = make_sample(type, i);
          w->write(&b);
          if (rel != "reliable") std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        emit("{\"ev\":\"ok\",\"cmd\":\"pub\",\"topic\":" + jstr(topic) + ",\"matched\":" + std::to_string(matched) + "}");
      } else if (cmd == "raw") {
        std::string topic, type_name, rel, hex; int wait_ms = 3000; in >> topic >> type_name >> rel >> wait_ms >> hex;
        DataWriter* w = writer_for(topic, type_name, rel);
        int matched = wait_matched(w, wait_ms);
        if (matched > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        Bytes b = unhex(hex);
        w->write(&b);
        emit("{\"ev\":\"ok\",\"cmd\":\"raw\",\"topic\":" + jstr(topic) + ",\"matched\":" + std::to_string(matched) + "}");
      } else if (cmd == "echo") {
        std::string tin, tout, type_name, rel; in >> tin >> tout >> type_name >> rel;
        DataWriter* w = writer_for(tout, type_name, rel);
        reader(tin, type_name, rel, [w](Bytes& b) { w->write(&b); });
        emit("{\"ev\":\"ok\",\"cmd\":\"echo\"}");
      } else if (cmd == "ping") {
        std::string tout, tin, type_name, rel; int count = 100; size_t size = 64; in >> tout >> tin >> type_name >> rel >> count >> size;
        std::mutex m; std::condition_variable cv; std::atomic<int> got{-1};
        reader(tin, type_name, rel, [&](Bytes& b) {
          std::lock_guard<std::mutex> lock(m);
          got = std::atoi(reinterpret_cast<const char*>(b.data()) + 8);
          cv.notify_all();
        });
        DataWriter* w = writer_for(tout, type_name, rel);
        wait_matched(w, 8000);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        std::vector<double> us;
        int lost = 0;
        for (int i = 0; i < count; i++) {
          Bytes b = string_of_size(size, i);
          auto t0 = Clock::now();
          w->write(&b);
          std::unique_lock<std::mutex> lock(m);
          if (cv.wait_for(lock, std::chrono::seconds(1), [&] { return got.load() == i; }))
            us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
          else lost++;
        }
        std::sort(us.begin(), us.end());
        auto pct = [&](double p) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))]; };
        emit("{\"ev\":\"ping\",\"n\":" + std::to_string(us.size()) + ",\"lost\":" + std::to_string(lost) + ",\"p50_us\":" + jnum(pct(0.5)) + ",\"p99_us\":" + jnum(pct(0.99)) + "}");
      } else if (cmd == "flood") {
        std::string topic, type_name, rel; int count = 1000; size_t size = 64; in >> topic >> type_name >> rel >> count >> size;
        DataWriter* w = writer_for(topic, type_name, rel);
        int matched = wait_matched(w, 8000);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        auto t0 = Clock::now();
        for (int i = 0; i < count; i++) { Bytes b = string_of_size(size, i); w->write(&b); }
        double s = std::chrono::duration<double>(Clock::now() - t0).count();
        emit("{\"ev\":\"flooded\",\"matched\":" + std::to_string(matched) + ",\"seconds\":" + jnum(s) + "}");
      } else if (cmd == "count") {
        std::string topic, type_name, rel; int count = 1000; in >> topic >> type_name >> rel >> count;
        auto n = std::make_shared<std::atomic<int>>(0);
        auto t0 = std::make_shared<Clock::time_point>();
        auto t1 = std::make_shared<Clock::time_point>();
        last_count = [n, t0, t1]() {
          emit("{\"ev\":\"report\",\"n\":" + std::to_string(n->load()) + ",\"seconds\":" + jnum(std::chrono::duration<double>(*t1 - *t0).count()) + "}");
        };
        reader(topic, type_name, rel, [n, t0, t1, count](Bytes&) {
          int k = ++*n;
          auto now = Clock::now();
          if (k == 1) *t0 = now;
          *t1 = now;  // only this listener's thread writes these
          if (k == count) emit("{\"ev\":\"counted\",\"n\":" + std::to_string(k) + ",\"seconds\":" + jnum(std::chrono::duration<double>(now - *t0).count()) + "}");
        });
        emit("{\"ev\":\"ok\",\"cmd\":\"count\"}");
      } else if (cmd == "report") {
        if (last_count) last_count(); else emit("{\"ev\":\"error\",\"what\":\"report before count\"}");
      } else if (!cmd.empty()) {
        emit("{\"ev\":\"error\",\"what\":" + jstr("unknown command " + cmd) + "}");
      }
    } catch (const std::exception& e) {
      emit("{\"ev\":\"error\",\"what\":" + jstr(e.what()) + "}");
    }
  }
  participant->delete_contained_entities();
  DomainParticipantFactory::get_instance()->delete_participant(participant);
  return 0;
}
