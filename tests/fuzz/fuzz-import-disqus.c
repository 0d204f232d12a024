/* fuzz-import-disqus: import_read_disqus (lib/import_xml.c or lib/import_json.c) on
 * arbitrary bytes: every record it hands over is well formed, its text
 * converts and renders; anything else is refused with a message. */
#include "fuzz-import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_stream(import_read_disqus, data, size);
}
