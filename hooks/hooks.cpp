#include "hooks/hooks.hpp"
