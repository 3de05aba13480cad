"""German stopwords: function words and question words that never decide what a passage is about.

Based on the Snowball German stopword list, plus question words and a few very common verbs
of questions ("gibt", "heißt"). Casefolded, with umlauts and ß as written and folded.
"""

_WORDS = """
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes
anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das dass daß dasselbe
dazu dein deine deinem deinen deiner deines dem demselben den denn denselben der derer
derselbe derselben des desselben dessen dich die dies diese dieselbe dieselben diesem diesen
dieser dieses dir doch dort du durch ein eine einem einen einer eines einig einige einigem
einigen einiger einiges einmal er es etwas euch euer eure eurem euren eurer eures für gegen
gewesen hab habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem
ihren ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener
jenes jetzt kann kein keine keinem keinen keiner keines können könnte machen man manche
manchem manchen mancher manches mein meine meinem meinen meiner meines mich mir mit muss
musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
seines selbst sich sie sind so solche solchem solchen solcher solches soll sollte sondern
sonst über um und uns unsere unserem unseren unser unseres unter viel vom von vor während
war waren warst was weg weil weiter welche welchem welchen welcher welches wenn werde werden
wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen
wer wen wem wessen warum wieso weshalb wann wohin woher womit wofür worum worüber wovon
welch gibt gab gibts gäbe heißt eigentlich denn bitte mal ja nein genau gerade schon
du sagen sag sage sagt erzähl erzähle erzählen weißt wissen weiß bitte danke hallo hi
tun tut getan los überhaupt endlich eigentlich passiert passieren geht gehen kommt kommen
macht steht bedeutet bedeuten besagt hieß heißen gerade genau etwa eigentlich
viele vielen vieler vielem vieles willst wolle wollt wollten sollen sollst sollten solle
müssen muß müsste müssten darf dürfen dürfte dürften kannst könnt konnte konnten könnten
wurde wurden worden wäre wären seid hast habt hätte hätten ist mehr
"""

GERMAN_STOPWORDS: frozenset[str] = frozenset(_WORDS.split())
