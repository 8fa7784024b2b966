/* libFuzzer target: a whole submitted message through intake, header
 * split, address and Content-Type checks, and the envelope. */
#include "config.h"

#include <libetpan/libetpan.h>

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "compose.h"
#include "envelope.h"
#include "fileio.h"
#include "header.h"
#include "intake.h"
#include "sealed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message m;
	struct rcptlist rl = {0};
	struct cli c;
	char why[512];
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		return 0;
	memset(&c, 0, sizeof(c));
	c.extract = 1;
	message_init(&m);
	if (intake_read(fd, size > 0 && (data[0] & 1), "/tmp", &m, why, sizeof(why)) ==
	    PS_OK) {
		{
			struct mailmime_content *ct = NULL;

			if (header_content_type(&m.hdr, &ct) == PS_OK && ct != NULL)
				mailmime_content_free(ct);
		}
		compose_is_pgp_mime(&m.hdr);
		message_is_sealed(&m);
		{
			struct undecidedlist und = {0};

			envelope_build(&c, &m.hdr, &rl, &und, why, sizeof(why));
			undecided_free(&und);
		}
		{
			struct buf b;

			buf_init(&b, 1 << 22);
			compose_inner_header(&m.hdr, 1, &b);
			buf_free(&b);
		}
	}
	rcptlist_free(&rl);
	message_free(&m);
	close(fd);
	return 0;
}
