// libjpeg-turbo (Debian's libjpeg62-turbo-dev); jpeglib.h needs stdio.h first.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
