using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Chat.Domain;
using Chat.Persistence;
using Chat.Server.Admin;

namespace Chat.Tests.Admin;

/// <summary>The webhook body and signature exactly as the design spells them, without I/O.</summary>
[Trait("Kind", "Unit")]
public sealed class WebhookUnitTests
{
    [Fact]
    public void A_body_leads_with_type_id_and_ts_then_the_events_fields_and_its_signature_is_the_hmac_of_those_bytes()
    {
        var message = new ChatMessage(ConversationId.Group(5), 7, "alice \"the\" first", 5, new string('x', 150), "then", 1_795_255_200_000, "c1")
        {
            File = new FileRef(new string('a', 32), "photo.jpg", 10, "image/jpeg", true),
        };
        var row = WebhookOutbox.Offline(9, message, 42);

        var body = WebhookDispatcher.Body(row);
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(["type", "id", "ts", "user", "from", "name", "groupid", "seq", "msg", "file"], json.Select(p => p.Key));
        Assert.Equal(("message.offline", row.Id, 1_795_255_200_000L), ((string)json["type"]!, (string)json["id"]!, (long)json["ts"]!));
        Assert.Equal((9, 7, "alice \"the\" first", 5, 42L, 100, "photo.jpg"),
            ((int)json["user"]!, (int)json["from"]!, (string)json["name"]!, (int)json["groupid"]!, (long)json["seq"]!, ((string)json["msg"]!).Length, (string)json["file"]!));
        Assert.Matches("^[0-9a-f]{32}$", row.Id);

        var key = Encoding.UTF8.GetBytes("the secret");
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body)), WebhookDispatcher.Signature(key, body));
    }

    [Fact]
    public void A_ban_without_end_says_until_null_and_each_row_has_its_own_delivery_id()
    {
        var first = WebhookOutbox.Banned(3, new Ban("spam", null), 1);
        var json = JsonNode.Parse(WebhookDispatcher.Body(first))!.AsObject();
        Assert.Equal(("user.banned", 3, "spam"), ((string)json["type"]!, (int)json["user"]!, (string)json["reason"]!));
        Assert.True(json.ContainsKey("until"));
        Assert.Null(json["until"]);
        Assert.NotEqual(first.Id, WebhookOutbox.Banned(3, new Ban("spam", null), 1).Id);
    }
}
