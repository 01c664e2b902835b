#pragma once
#include <new>
#include <stdexcept>

#include "core/errors.h"

namespace bitnet {
namespace binding {

template <class F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  Napi::Env env = info.Env();
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const bitnet::TypeError& e) {
    throw Napi::TypeError::New(env, e.what());
  } catch (const bitnet::RangeError& e) {
    throw Napi::RangeError::New(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "out of memory in a native bitnet-lab call");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  } catch (...) {
    throw Napi::Error::New(env, "unknown native error in bitnet-lab");
  }
}

}  // namespace binding
}  // namespace bitnet
