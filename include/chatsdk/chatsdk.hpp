// chatsdk/chatsdk.hpp — everything an app needs, in one include.
//
//   #include <chatsdk/chatsdk.hpp>
//   auto client = chatsdk::Client::create(options);
#pragma once

#include "chatsdk/client.hpp"
#include "chatsdk/errc.hpp"
#include "chatsdk/events.hpp"
#include "chatsdk/options.hpp"
#include "chatsdk/result.hpp"
#include "chatsdk/types.hpp"
#include "chatsdk/version.hpp"
