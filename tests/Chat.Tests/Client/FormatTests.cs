using System.Text;
using System.Text.Json;
using Chat.Client;

namespace Chat.Tests.Client;

public sealed class FormatTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Chats_print_in_the_seed_clients_words()
    {
        Assert.Equal("2026-11-21 10:00:00 [1] alice said: hi: there",
            Format.Chat(Json("""{"msgid":6,"id":1,"name":"alice","toid":2,"msg":"hi: there","time":"2026-11-21 10:00:00","seq":1}""")));
        Assert.Equal("group message[5]: t [1] alice said: hello",
            Format.Chat(Json("""{"msgid":10,"id":1,"name":"alice","groupid":5,"msg":"hello","time":"t","seq":1}""")));
    }

    [Fact]
    public void A_one_to_one_conversation_is_named_by_the_other_user()
    {
        var fromAlice = Json("""{"msgid":6,"id":1,"toid":2,"seq":1}""");

        Assert.Equal(new Conversation(false, 1), Format.ConversationOf(fromAlice, me: 2));
        Assert.Equal(new Conversation(false, 2), Format.ConversationOf(fromAlice, me: 1));
        Assert.Equal(new Conversation(true, 5), Format.ConversationOf(Json("""{"msgid":10,"id":1,"groupid":5}"""), me: 2));
    }

    [Fact]
    public void The_login_summary_reads_lists_of_objects_and_the_seeds_lists_of_strings()
    {
        const string objects = """
            {"msgid":2,"errno":0,"id":1,"name":"alice",
             "friends":[{"id":2,"name":"bob","state":"online"}],
             "groups":[{"id":5,"groupname":"team","groupdesc":"the team","users":[{"id":1,"name":"alice","state":"online","role":"creator"}]}]}
            """;
        const string strings = """
            {"msgid":2,"errno":0,"id":1,"name":"alice",
             "friends":["{\"id\":2,\"name\":\"bob\",\"state\":\"online\"}"],
             "groups":["{\"id\":5,\"groupname\":\"team\",\"groupdesc\":\"the team\",\"users\":[\"{\\\"id\\\":1,\\\"name\\\":\\\"alice\\\",\\\"state\\\":\\\"online\\\",\\\"role\\\":\\\"creator\\\"}\"]}"]}
            """;

        var expected = new[]
        {
            "======================login user======================",
            "current login user => id:1 name:alice",
            "----------------------friend list---------------------",
            "2 bob online",
            "----------------------group list----------------------",
            "5 team the team",
            "    1 alice online creator",
            "======================================================",
        };
        Assert.Equal(expected, Format.LoginSummary(Json(objects)));
        Assert.Equal(expected, Format.LoginSummary(Json(strings)));
    }

    [Fact]
    public void Requests_carry_the_cid_and_end_with_a_newline()
    {
        var frame = Encoding.UTF8.GetString(Requests.Login("r-1", 7, "pw", [new(new(false, 2), 3), new(new(true, 5), 9)]));

        Assert.Equal("""{"msgid":1,"cid":"r-1","id":7,"password":"pw","v":2,"resume":[{"peer":2,"seq":3},{"groupid":5,"seq":9}]}""" + "\n", frame);
        Assert.Equal("""{"msgid":6,"cid":"c","toid":2,"msg":"né: ok","time":"t"}""" + "\n",
            Encoding.UTF8.GetString(Requests.OneChat("c", 2, "né: ok", "t")));
    }
}
