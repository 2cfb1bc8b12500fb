// Boost.URL's compiled part: Debian 12 ships its headers but no library, and Boost supports
// building it into one translation unit of the program instead.
#include <boost/url/src.hpp>
