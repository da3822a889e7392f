// stb_image_resize from Debian's libstb-dev (implementation in libstb).
#include <stb_image_resize.h>
