# Copyright (C) 2026 Seed 79e7e746 maintainers

package CliGatewayJwt;

# Keys made at test time with the openssl command line, and tokens signed
# with them, for t/008-jwt.t. TEST_NGINX_JWT_DIR names the key directory
# for the configurations.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64url);

use Exporter 'import';
our @EXPORT_OK = qw(jwt);

our $dir = tempdir('cli-gateway-jwt.XXXXXX', TMPDIR => 1, CLEANUP => 1);
our $secret = 'a test secret of forty-two bytes, no less!';

sub openssl {
    my $cmd = shift;
    system("openssl $cmd 2>/dev/null") == 0 or die "openssl $cmd failed\n";
}

openssl("genrsa -out $dir/rsa.key 2048");
openssl("rsa -in $dir/rsa.key -pubout -out $dir/rsa.pub");
openssl("ecparam -name prime256v1 -genkey -noout -out $dir/ec.key");
openssl("ec -in $dir/ec.key -pubout -out $dir/ec.pub");

open my $out, '>', "$dir/hs.secret" or die "$!\n";
print $out "$secret\n";
close $out;

# jwks.json: the RSA key as "rsa-1", the EC key as "ec-1", the members
# read off `openssl -text`
sub hex_b64url {
    (my $hex = shift) =~ s/[^0-9a-fA-F]//g;
    $hex =~ s/^(?:00)+//;
    return encode_base64url(pack 'H*', $hex);
}

sub key_text {
    my $cmd = shift;
    my $text = `openssl $cmd 2>/dev/null`;
    die "openssl $cmd failed\n" if $?;
    return $text;
}

my ($modulus) = key_text("rsa -pubin -in $dir/rsa.pub -noout -modulus")
                =~ /Modulus=(\w+)/;
my ($point) = key_text("ec -pubin -in $dir/ec.pub -noout -text")
              =~ /pub:\s*((?:[0-9a-f]{2}:?\s*)+)/;
(my $xy = $point) =~ s/[^0-9a-f]//g;
$xy =~ s/^04//;

open my $jwks, '>', "$dir/jwks.json" or die "$!\n";
print $jwks '{"keys":['
    . '{"kty":"RSA","kid":"rsa-1","use":"sig","n":"' . hex_b64url($modulus)
    . '","e":"AQAB"},'
    . '{"kty":"EC","kid":"ec-1","crv":"P-256","x":"'
    . encode_base64url(pack 'H*', substr $xy, 0, 64) . '","y":"'
    . encode_base64url(pack 'H*', substr $xy, 64, 64) . '"}]}';
close $jwks;

$ENV{TEST_NGINX_JWT_DIR} = $dir;

sub sign_with_key {
    my ($key, $input) = @_;
    open my $in, '>', "$dir/input" or die "$!\n";
    print $in $input;
    close $in;
    openssl("dgst -sha256 -sign $dir/$key -out $dir/sig $dir/input");
    open my $sig, '<', "$dir/sig" or die "$!\n";
    binmode $sig;
    local $/;
    return scalar <$sig>;
}

# DER ECDSA-Sig-Value -> r || s, 32 bytes each, as JWS wants
sub der_to_raw {
    my $der = shift;
    my ($rlen) = unpack 'x3 C', $der;
    my $r = substr $der, 4, $rlen;
    my ($slen) = unpack 'C', substr $der, 5 + $rlen, 1;
    my $s = substr $der, 6 + $rlen, $slen;
    for ($r, $s) {
        s/^\x00+//;
        $_ = ("\x00" x (32 - length)) . $_;
    }
    return $r . $s;
}

# jwt(ALG, CLAIMS_JSON [, header => JSON, sign_as => ALG, secret => S])
sub jwt {
    my ($alg, $claims, %o) = @_;
    my $header = $o{header} // qq({"alg":"$alg","typ":"JWT"});
    my $input = encode_base64url($header) . '.' . encode_base64url($claims);
    my $how = $o{sign_as} // $alg;
    my $sig = $how eq 'HS256' ? hmac_sha256($input, $o{secret} // $secret)
            : $how eq 'RS256' ? sign_with_key('rsa.key', $input)
            : $how eq 'ES256' ? der_to_raw(sign_with_key('ec.key', $input))
            : '';
    return $input . '.' . encode_base64url($sig);
}

1;
